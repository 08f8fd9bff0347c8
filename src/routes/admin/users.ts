import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Prisma } from '../../generated/prisma/client.ts'
import { HttpProblem } from '../../http/problem.ts'
import { userChangeLockout, type UserChange } from '../../policy/lockout.ts'
import { IdParams, NoContent, page, ProblemSchema, protectedErrors, searchAny } from '../schemas.ts'
import { User, UserListQuery, UserUpdate, toUser, userShape } from './users-schema.ts'

/**
 * The Authorizer's `before` hook refusing a change that would leave nobody able to manage users
 * and policies (422, like the same refusal of a policy): restarting with ADMIN_USERNAME is then
 * the only way back in.
 */
function refuseLockout(request: FastifyRequest, change: UserChange) {
  return async (tx: Prisma.TransactionClient) => {
    const reason = await userChangeLockout(tx, request.authz.compiled, change)
    if (reason) throw new HttpProblem(422, 'policy-lockout', reason)
  }
}

const lockoutError = { 422: ProblemSchema }

// User management. Who may use it is the policy's answer for subject User (admins in policies/).
// After a change this instance forgets the account at once; every instance (this one included)
// also does on the notification the users table's trigger sends (src/auth/account-cache.ts).
const users: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('', {
    schema: {
      tags: ['admin'],
      operationId: 'listUsers',
      summary: 'Users',
      querystring: UserListQuery,
      response: { 200: page(User), ...protectedErrors },
    },
    handler: async (request) =>
      request.authz.list('User', request.query, {
        filters: [searchAny(['username'], request.query.search)],
        shape: userShape,
        toItem: toUser,
      }),
  })

  fastify.get('/:id', {
    schema: { tags: ['admin'], operationId: 'getUser', summary: 'One user', params: IdParams, response: { 200: User, ...protectedErrors } },
    handler: async (request) => toUser(await request.authz.findOne('User', request.params.id, 'read', userShape)),
  })

  fastify.patch('/:id', {
    schema: {
      tags: ['admin'],
      operationId: 'updateUser',
      summary: "Change a user's role",
      description:
        'Takes effect on the next request of that user, whatever tokens they hold. 422 `policy-lockout` when nobody could manage users and policies any more.',
      params: IdParams,
      body: UserUpdate,
      response: { 200: User, ...protectedErrors, ...lockoutError },
    },
    handler: async (request) => {
      const { id } = request.params
      const before = refuseLockout(request, { userId: id, role: request.body.role })
      const user = toUser(await request.authz.update('User', id, request.body, { shape: userShape, before }))
      fastify.accountCache.forget(id)
      return user
    },
  })

  fastify.delete('/:id/sessions', {
    schema: {
      tags: ['admin'],
      operationId: 'revokeSessions',
      summary: "Revoke a user's sessions",
      description: 'Every token issued to that user so far stops working at once; they can log in again. Needs `update` on the user.',
      params: IdParams,
      response: { 204: NoContent, ...protectedErrors },
    },
    handler: async (request, reply) => {
      await request.authz.update('User', request.params.id, { sessionVersion: { increment: 1 } })
      fastify.accountCache.forget(request.params.id)
      return reply.code(204).send(null)
    },
  })

  fastify.delete('/:id', {
    schema: {
      tags: ['admin'],
      operationId: 'deleteUser',
      summary: 'Delete a user with their projects and tasks',
      description: 'Their tokens stop working at once. 422 `policy-lockout` when nobody could manage users and policies any more.',
      params: IdParams,
      response: { 204: NoContent, ...protectedErrors, ...lockoutError },
    },
    handler: async (request, reply) => {
      const { id } = request.params
      await request.authz.delete('User', id, { before: refuseLockout(request, { userId: id, role: null }) })
      fastify.accountCache.forget(id)
      return reply.code(204).send(null)
    },
  })
}

export default users
