import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdParams, NoContent, page, protectedErrors, searchAny } from '../schemas.ts'
import { User, UserListQuery, UserUpdate, toUser, userShape } from './users-schema.ts'

// User management. Who may use it is the policy's answer for subject User (admins in policies/).
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
      description: 'Takes effect on the next request of that user, whatever tokens they hold.',
      params: IdParams,
      body: UserUpdate,
      response: { 200: User, ...protectedErrors },
    },
    handler: async (request) => toUser(await request.authz.update('User', request.params.id, request.body, { shape: userShape })),
  })

  fastify.delete('/:id', {
    schema: {
      tags: ['admin'],
      operationId: 'deleteUser',
      summary: 'Delete a user with their projects and tasks',
      description: 'Their tokens stop working at once.',
      params: IdParams,
      response: { 204: NoContent, ...protectedErrors },
    },
    handler: async (request, reply) => {
      await request.authz.delete('User', request.params.id)
      return reply.code(204).send(null)
    },
  })
}

export default users
