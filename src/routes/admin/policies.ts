import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { HttpProblem } from '../../http/problem.ts'
import { activate, type Activation, type AuditKind } from '../../policy/activation.ts'
import { rowsToData } from '../../policy/decision-table.ts'
import { review, type Proposal } from '../../policy/review.ts'
import { formatPolicyError, type PolicyError } from '../../policy/validate.ts'
import type { PolicyVersion } from '../../policy/versions.ts'
import type { DecisionRowData, RoleRule } from '../../shared/rule-format.ts'
import { page, ProblemSchema, protectedErrors } from '../schemas.ts'
import {
  PolicyBody,
  ProposalBody,
  RollbackBody,
  ValidationReport,
  VersionDetail,
  VersionListQuery,
  VersionParams,
  VersionSummary,
} from './policies-schema.ts'

// The policy at runtime: read it, validate a proposal against live data, activate it with
// optimistic concurrency (If-Match), roll back. Who may do this is the policy's answer for
// subject PolicyVersion.

const refusals = { ...protectedErrors, 409: ProblemSchema, 422: ProblemSchema, 428: ProblemSchema }

function sendActive(reply: FastifyReply, active: PolicyVersion) {
  return reply.header('etag', `"${active.version}"`).send({ version: active.version, rules: active.rules, table: rowsToData(active.table) })
}

const versionShape = { select: { version: true, author: true, createdAt: true, message: true } } as const
const toSummary = (row: { version: number; author: string; createdAt: Date; message: string }) => ({
  version: row.version,
  author: row.author,
  message: row.message,
  createdAt: row.createdAt.toISOString(),
})
const author = (request: FastifyRequest) => ({ id: request.account.id, username: request.account.username })

/** Parses `If-Match: "7"` (or W/"7"); 428 without it. */
function expectedVersion(ifMatch: string | undefined): number {
  if (!ifMatch)
    throw new HttpProblem(428, 'precondition-required', 'Send If-Match with the ETag of the policy version your change is based on.')
  const match = /^(?:W\/)?"(\d+)"$/.exec(ifMatch.trim())
  if (!match) throw new HttpProblem(400, 'invalid-if-match', 'If-Match must be a policy ETag such as "7".')
  return Number(match[1])
}

function invalidPolicy(errors: PolicyError[]): HttpProblem {
  return new HttpProblem(400, 'policy-invalid', `The policy has ${errors.length} error(s): ${errors.map(formatPolicyError).join('; ')}`, {
    errors: errors.map((e) => ({
      field: e.path === 'table' ? 'table' : `rules[${e.ruleId ?? e.role}]${e.path ? `.${e.path}` : ''}`,
      role: e.role,
      ruleId: e.ruleId,
      message: e.message,
    })),
  })
}

/** The new active version, or the refusal as its problem answer. */
function activated(result: Activation): PolicyVersion {
  switch (result.outcome) {
    case 'activated':
      return result.active
    case 'stale':
      throw new HttpProblem(
        409,
        'policy-version-conflict',
        `The policy changed meanwhile: the active version is ${result.current}. Reload it and apply your change again.`,
        { currentVersion: result.current },
        { etag: `"${result.current}"` },
      )
    case 'invalid':
      throw invalidPolicy(result.errors)
    case 'table-failed':
      throw new HttpProblem(
        422,
        'decision-table-failed',
        `${result.failures.length} decision-table row(s) fail with this policy; send an updated table if the change is intended.`,
        {
          failures: result.failures,
        },
      )
    case 'lockout':
      throw new HttpProblem(422, 'policy-lockout', result.reason)
  }
}

const policies: FastifyPluginAsyncTypebox = async (fastify) => {
  const { db, policies: store } = fastify

  const activateAs = async (request: FastifyRequest, proposal: Proposal, basedOn: number, kind: AuditKind) =>
    activated(await activate(db, store, proposal, basedOn, author(request), kind))

  fastify.get('', {
    schema: {
      tags: ['policy'],
      operationId: 'getActivePolicy',
      summary: 'The active policy version (ETag: its version)',
      response: { 200: PolicyBody, ...protectedErrors },
    },
    handler: async (request, reply) => {
      request.authz.assertAccess('read', 'PolicyVersion')
      return sendActive(reply, store.snapshot)
    },
  })

  fastify.get('/versions', {
    schema: {
      tags: ['policy'],
      operationId: 'listPolicyVersions',
      summary: 'Version history',
      querystring: VersionListQuery,
      response: { 200: page(VersionSummary), ...protectedErrors },
    },
    handler: async (request) => request.authz.list('PolicyVersion', request.query, { shape: versionShape, toItem: toSummary }),
  })

  fastify.get('/versions/:v', {
    schema: {
      tags: ['policy'],
      operationId: 'getPolicyVersion',
      summary: 'One version, with its rules and decision table',
      params: VersionParams,
      response: { 200: VersionDetail, ...protectedErrors },
    },
    handler: async (request) => {
      const row = await request.authz.findOne('PolicyVersion', request.params.v)
      return { ...toSummary(row), rules: row.rules as RoleRule[], table: row.table as DecisionRowData[] }
    },
  })

  fastify.post('/validate', {
    schema: {
      tags: ['policy'],
      operationId: 'validatePolicy',
      summary: 'Validate a proposed policy: errors, decision table, flipped rows, impact on live data. Changes nothing.',
      body: ProposalBody,
      response: { 200: ValidationReport, ...protectedErrors },
    },
    handler: async (request) => {
      request.authz.assertAccess('create', 'PolicyVersion')
      const reviewed = await review(db, store.snapshot, request.body, { impact: true })
      if (!reviewed.valid)
        return { valid: false, errors: reviewed.errors, table: null, flips: [], impact: null, lockout: null, rules: reviewed.rules }
      const { table, flips, impact, lockout, rules } = reviewed
      return { valid: true, errors: [], table, flips, impact, lockout, rules }
    },
  })

  fastify.put('', {
    schema: {
      tags: ['policy'],
      operationId: 'activatePolicy',
      summary: 'Activate a new policy version',
      description:
        'Needs `If-Match: "<version>"` (428 without, 409 when stale). 400 `policy-invalid`, 422 `decision-table-failed` (send an updated `table` the new rules pass), 422 `policy-lockout`.',
      headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
      body: ProposalBody,
      response: { 200: PolicyBody, ...refusals },
    },
    handler: async (request, reply) => {
      request.authz.assertAccess('create', 'PolicyVersion')
      const basedOn = expectedVersion(request.headers['if-match'])
      return sendActive(reply, await activateAs(request, request.body, basedOn, 'policy.activate'))
    },
  })

  fastify.post('/rollback', {
    schema: {
      tags: ['policy'],
      operationId: 'rollbackPolicy',
      summary: 'Activate the rules and table of an earlier version, as a new version',
      body: RollbackBody,
      response: { 200: PolicyBody, ...refusals },
    },
    handler: async (request, reply) => {
      request.authz.assertAccess('create', 'PolicyVersion')
      const old = await request.authz.findOne('PolicyVersion', request.body.version)
      const proposal = {
        rules: old.rules as RoleRule[],
        table: old.table as DecisionRowData[],
        message: request.body.message ?? `Rollback to version ${old.version}`,
      }
      return sendActive(reply, await activateAs(request, proposal, store.snapshot.version, 'policy.rollback'))
    },
  })
}

export default policies
