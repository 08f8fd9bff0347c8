import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Prisma, User as UserRow } from '../../generated/prisma/client.ts'
import { IdParams, NoContent, listPage, orderBy, page, protectedErrors, searchAny, type ListQuery } from '../schemas.ts'
import { User, UserListQuery, UserUpdate, toUser, userSelect } from './users-schema.ts'

// User management. Who may use it is the policy's answer for subject User (admins in policies/).
const users: FastifyPluginAsyncTypebox = async (fastify) => {
  const { db } = fastify

  fastify.get('', {
    schema: { tags: ['admin'], summary: 'Users', querystring: UserListQuery, response: { 200: page(User), ...protectedErrors } },
    handler: async (request) => {
      const query = request.query as ListQuery
      const where: Prisma.UserWhereInput = { AND: [request.authz.where('read', 'User'), searchAny(['username'], query.search)] }
      return listPage(
        db.user.findMany({ where, select: userSelect, orderBy: orderBy(query.ordering), skip: query.offset, take: query.limit }),
        db.user.count({ where }),
        query,
        toUser,
      )
    },
  })

  fastify.get('/:id', {
    schema: { tags: ['admin'], summary: 'One user', params: IdParams, response: { 200: User, ...protectedErrors } },
    handler: async (request) => toUser(await request.authz.findOne<UserRow>(db, 'User', request.params.id, 'read')),
  })

  fastify.patch('/:id', {
    schema: {
      tags: ['admin'],
      summary: "Change a user's role",
      description: 'Takes effect on the next request of that user, whatever tokens they hold.',
      params: IdParams,
      body: UserUpdate,
      response: { 200: User, ...protectedErrors },
    },
    handler: async (request) => {
      const row = await db.$transaction(async (tx) => {
        await request.authz.findForUpdate(tx, 'User', request.params.id, request.body)
        return tx.user.update({ where: { id: request.params.id }, data: request.body, select: userSelect })
      })
      return toUser(row)
    },
  })

  fastify.delete('/:id', {
    schema: {
      tags: ['admin'],
      summary: 'Delete a user with their projects and tasks',
      description: 'Their tokens stop working at once.',
      params: IdParams,
      response: { 204: NoContent, ...protectedErrors },
    },
    handler: async (request, reply) => {
      await db.$transaction(async (tx) => {
        await request.authz.findOne(tx, 'User', request.params.id, 'delete')
        await tx.user.delete({ where: { id: request.params.id } })
      })
      return reply.code(204).send(null)
    },
  })
}

export default users
