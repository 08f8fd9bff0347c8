import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HttpProblem, isProblemSlug, PROBLEM_SLUGS, PROBLEM_TYPES, problemType, type ProblemSlug } from '../../http/problem.ts'
import { ProblemSchema } from '../schemas.ts'
import { prefersHtml, problemIndexPage, problemPage } from './html.ts'
import { Html, ProblemTypeList, ProblemTypeParams, ProblemTypeSchema } from './schema.ts'

// What the `type` of a problem answer means: every type is served here, JSON for programs and a
// page for people (by Accept).

const describe = (slug: ProblemSlug): ProblemTypeSchema => ({ type: problemType(slug), ...PROBLEM_TYPES[slug] })
const negotiated = <J, H>(json: J, html: H) => ({ 'application/json': { schema: json }, 'text/html': { schema: html } })

const problems: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('', {
    schema: {
      tags: ['problems'],
      operationId: 'listProblemTypes',
      summary: 'Every problem type the API answers with',
      security: [],
      response: { 200: { description: 'The problem types', content: negotiated(ProblemTypeList, Html) } },
    },
    handler: async (request, reply) => {
      const all = PROBLEM_SLUGS.map(describe)
      reply.header('vary', 'accept')
      if (prefersHtml(request.headers.accept)) return reply.type('text/html; charset=utf-8').send(problemIndexPage(all))
      return reply.type('application/json; charset=utf-8').send(all)
    },
  })

  fastify.get('/:name', {
    schema: {
      tags: ['problems'],
      operationId: 'getProblemType',
      summary: 'What a problem type means',
      security: [],
      params: ProblemTypeParams,
      response: {
        200: { description: 'The problem type', content: negotiated(ProblemTypeSchema, Html) },
        400: ProblemSchema,
        404: ProblemSchema,
      },
    },
    handler: async (request, reply) => {
      const { name } = request.params
      if (!isProblemSlug(name)) throw new HttpProblem(404, 'not-found', `There is no problem type ${name}.`)
      reply.header('vary', 'accept')
      const problem = describe(name)
      if (prefersHtml(request.headers.accept)) return reply.type('text/html; charset=utf-8').send(problemPage(problem))
      return reply.type('application/json; charset=utf-8').send(problem)
    },
  })
}

export default problems
