import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Task as TaskRow } from '../../generated/prisma/client.ts'
import { IdParams, NoContent, page, protectedErrors } from '../schemas.ts'
import { listTasks } from './list.ts'
import { Task, TaskCreate, TaskListQuery, TaskUpdate, toTask, type TaskListFilters } from './schema.ts'

const tasks: FastifyPluginAsyncTypebox = async (fastify) => {
  const { db } = fastify

  fastify.get('', {
    schema: { tags: ['tasks'], summary: 'Tasks the caller may read', querystring: TaskListQuery, response: { 200: page(Task), ...protectedErrors } },
    handler: async (request) => listTasks(db, request.authz, request.query as TaskListFilters),
  })

  fastify.post('', {
    schema: {
      tags: ['tasks'],
      summary: 'Create a task in a project the caller may manage',
      description: 'A project that does not exist is a 400 naming `projectId`; one the caller may not manage is a 403.',
      body: TaskCreate,
      response: { 201: Task, ...protectedErrors },
    },
    handler: async (request, reply) => {
      const row = await db.$transaction(async (tx) => {
        await request.authz.authorizeCreate(tx, 'Task', request.body)
        return tx.task.create({ data: request.body })
      })
      return reply.code(201).send(toTask(row))
    },
  })

  fastify.get('/:id', {
    schema: { tags: ['tasks'], summary: 'One task', params: IdParams, response: { 200: Task, ...protectedErrors } },
    handler: async (request) => toTask(await request.authz.findOne<TaskRow>(db, 'Task', request.params.id, 'read')),
  })

  fastify.patch('/:id', {
    schema: {
      tags: ['tasks'],
      summary: 'Change a task, or move it to another project',
      params: IdParams,
      body: TaskUpdate,
      response: { 200: Task, ...protectedErrors },
    },
    handler: async (request) => {
      const row = await db.$transaction(async (tx) => {
        await request.authz.findForUpdate(tx, 'Task', request.params.id, request.body)
        return tx.task.update({ where: { id: request.params.id }, data: request.body })
      })
      return toTask(row)
    },
  })

  fastify.delete('/:id', {
    schema: { tags: ['tasks'], summary: 'Delete a task', params: IdParams, response: { 204: NoContent, ...protectedErrors } },
    handler: async (request, reply) => {
      await db.$transaction(async (tx) => {
        await request.authz.findOne(tx, 'Task', request.params.id, 'delete')
        await tx.task.delete({ where: { id: request.params.id } })
      })
      return reply.code(204).send(null)
    },
  })
}

export default tasks
