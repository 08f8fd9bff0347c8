import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdParams, PageQuery, protectedErrors } from '../schemas.ts'
import { UserAccess } from './user-access-schema.ts'
import { userShape } from './users-schema.ts'

// What one user may reach. Asking needs the right to read that user (admins, in policies/);
// the answer only counts what the caller may read too, so it tells nothing the caller could
// not see.
const userAccess: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/:id/access', {
    schema: {
      tags: ['admin'],
      operationId: 'getUserAccess',
      summary: 'What a user may read, change and delete',
      description: 'Per subject and action: counts, first ids, allowing rules. Needs read access to the user.',
      params: IdParams,
      querystring: PageQuery,
      response: { 200: UserAccess, ...protectedErrors },
    },
    handler: async (request) => {
      const row = await request.authz.findOne('User', request.params.id, 'read', userShape)
      const user = { id: row.id, username: row.username, role: row.role }
      const reach = await request.authz.whatCanUserDo(user, request.query)
      return { user, policyVersion: request.authz.policyVersion, ...request.query, reach }
    },
  })
}

export default userAccess
