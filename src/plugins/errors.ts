import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DeniedError } from '../authz/authorizer.ts'
import { HttpProblem, slugForStatus, type ProblemBody } from '../http/problem.ts'

// Every error leaves as application/problem+json; nothing internal (stack, SQL) ever does.

type ValidationIssue = NonNullable<FastifyError['validation']>[number]

function fieldOf(issue: ValidationIssue, part: string | undefined): string {
  const params = issue.params
  const base = issue.instancePath.replace(/^\//, '').replaceAll('/', '.')
  const extra = (params.missingProperty ?? params.additionalProperty) as string | undefined
  const path = [base, extra].filter(Boolean).join('.')
  return path || part || 'body'
}

function messageOf(issue: ValidationIssue): string {
  const params = issue.params
  if (params.additionalProperty) return 'is not a field this endpoint accepts (unknown or read-only)'
  if (params.missingProperty) return 'is required'
  return issue.message ?? 'is invalid'
}

function validationProblem(error: FastifyError): HttpProblem {
  const part = error.validationContext
  const errors = error.validation!.map((issue) => ({ field: fieldOf(issue, part), in: part, message: messageOf(issue) }))
  const summary = errors.map((e) => `${e.field} ${e.message}`).join('; ')
  return new HttpProblem(400, 'validation-error', `Invalid ${part ?? 'request'}: ${summary}.`, { errors })
}

/** A refusal of the policy: 404 as if missing, 400 for a missing parent, 403 naming the deciding rule. */
function deniedProblem({ decision }: DeniedError): HttpProblem {
  const slug = decision.status === 404 ? 'not-found' : decision.status === 400 ? 'invalid-reference' : 'forbidden'
  return new HttpProblem(decision.status, slug, decision.detail, {
    ...(decision.status === 403 ? { ruleId: decision.ruleId } : {}),
    ...(decision.field ? { errors: [{ field: decision.field, message: decision.detail }] } : {}),
  })
}

/** PostgreSQL data exceptions that only a request's values cause: out-of-range or malformed dates, numbers, characters. */
const INPUT_SQLSTATES = new Set(['22001', '22003', '22007', '22008', '22021', '22P02', '22P05'])

function sqlState(error: unknown): string | undefined {
  const meta = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } }).meta
  const code = meta?.driverAdapterError?.cause?.originalCode
  return typeof code === 'string' ? code : undefined
}

const PRISMA_UNAVAILABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024'])

function toProblem(error: FastifyError & { code?: string }): HttpProblem {
  if (error instanceof HttpProblem) return error
  if (error instanceof DeniedError) return deniedProblem(error)
  if (error.validation) return validationProblem(error)
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return new HttpProblem(400, 'invalid-url', 'The URL is not validly percent-encoded.')
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HttpProblem(414, 'uri-too-long', 'A part of the URL path is longer than this server accepts.')
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem(413, 'body-too-large', 'The request body is larger than this endpoint accepts.')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem(415, 'unsupported-media-type', 'Send the request body as application/json.')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpProblem(400, 'invalid-json', 'The request body is empty; send a JSON object.')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpProblem(400, 'invalid-json', 'The request body is not valid JSON.')
    case 'P2002':
      return new HttpProblem(409, 'conflict', 'A record with the same unique value already exists.')
    case 'P2003':
    case 'P2034':
      // A parent deleted, or a row changed, by a concurrent request between check and write.
      return new HttpProblem(409, 'conflict', 'The data changed while this request ran; reload and try again.')
    case 'P2025':
      return new HttpProblem(404, 'not-found', 'The record no longer exists.')
  }
  if (error.code === 'P2020' || INPUT_SQLSTATES.has(sqlState(error) ?? '')) {
    // Valid to the schema but not to the database, such as a timestamp in year 0: the client's to fix.
    return new HttpProblem(400, 'value-out-of-range', 'A value in the request is out of the range the database can store or compare.')
  }
  if (error instanceof SyntaxError) return new HttpProblem(400, 'invalid-json', 'The request body is not valid JSON.')
  if (PRISMA_UNAVAILABLE.has(error.code) || isConnectionError(error)) {
    return new HttpProblem(503, 'database-unavailable', 'The database is unavailable; try again shortly.', {}, { 'retry-after': '1' })
  }
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    return new HttpProblem(status, slugForStatus(status), error.message)
  }
  return new HttpProblem(500, 'internal-error', 'An unexpected error occurred; it has been logged.')
}

function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { message, code: ownCode, cause } = error as { message?: unknown; code?: string; cause?: { code?: string } }
  const text = typeof message === 'string' ? message : ''
  const code = cause?.code ?? ownCode
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '57P01', '57P03', '08006', '08001'].includes(code ?? '') ||
    /connection (terminated|refused|timeout)|Can't reach database|DatabaseNotReachable|timeout exceeded when trying to connect/i.test(text)
  )
}

export function sendProblem(reply: FastifyReply, problem: HttpProblem, request: FastifyRequest): FastifyReply {
  const body: ProblemBody = problem.toBody(request.url, request.id)
  return reply.code(problem.status).headers(problem.headers).type('application/problem+json').send(body)
}

/** Fastify's `frameworkErrors`: what the router refuses before any route or hook runs. */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  // No hook runs for these answers: the request id header is set here.
  void sendProblem(reply.header('x-request-id', request.id), toProblem(error), request)
}

async function errors(fastify: FastifyInstance) {
  fastify.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error)
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ status: problem.status, type: problem.slug }, problem.detail)
    return sendProblem(reply, problem, request)
  })

  fastify.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new HttpProblem(404, 'not-found', `No route ${request.method} ${request.url.split('?')[0]}.`), request),
  )
}

export default fp(errors, { name: 'errors' })
