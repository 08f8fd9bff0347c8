import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { explain } from '../../authz/decisions.ts'
import { protectedErrors } from '../schemas.ts'
import { ExplainBody, Explanation } from './schema.ts'

// Why is this allowed or denied? Anyone may ask about themselves; asking about another user
// needs the right to read that user (admins, in policies/). An object the asker may not read is
// answered like a missing one, so explain leaks nothing.
const explainRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/explain', {
    schema: {
      tags: ['policy'],
      operationId: 'explainDecision',
      summary: 'Which rule decides an action on an object',
      body: ExplainBody,
      response: { 200: Explanation, ...protectedErrors },
    },
    handler: async (request) => {
      const { action, subject, id, userId } = request.body
      const asker = request.authz
      const target = userId !== undefined && userId !== request.account.id ? await asker.findOne('User', userId) : request.account
      // The asker must be able to see the object (with what the rules read); the question is
      // then answered for the target, against the same policy version.
      const row = await asker.findOne(subject, id)
      return { ...explain(asker.compiled.abilityFor(target), action, subject, row), policyVersion: asker.policyVersion }
    },
  })
}

export default explainRoutes
