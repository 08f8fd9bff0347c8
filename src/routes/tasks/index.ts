import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdParams, NoContent, page, protectedErrors } from '../schemas.ts'
import { listTasks } from './list.ts'
import { Task, TaskCreate, TaskListQuery, TaskUpdate, toTask } from './schema.ts'

const tasks: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('', {
    schema: {
      tags: ['tasks'],
      operationId: 'listTasks',
      summary: 'Tasks the caller may read',
      querystring: TaskListQuery,
      response: { 200: page(Task), ...protectedErrors },
    },
    handler: async (request) => listTasks(request.authz, request.query),
  })

  fastify.post('', {
    schema: {
      tags: ['tasks'],
      operationId: 'createTask',
      summary: 'Create a task in a project the caller may manage',
      description: 'A project that does not exist is a 400 naming `projectId`; one the caller may not manage is a 403.',
      body: TaskCreate,
      response: { 201: Task, ...protectedErrors },
    },
    handler: async (request, reply) => reply.code(201).send(toTask(await request.authz.create('Task', request.body))),
  })

  fastify.get('/:id', {
    schema: { tags: ['tasks'], operationId: 'getTask', summary: 'One task', params: IdParams, response: { 200: Task, ...protectedErrors } },
    handler: async (request) => toTask(await request.authz.findOne('Task', request.params.id)),
  })

  fastify.patch('/:id', {
    schema: {
      tags: ['tasks'],
      operationId: 'updateTask',
      summary: 'Change a task, or move it to another project',
      params: IdParams,
      body: TaskUpdate,
      response: { 200: Task, ...protectedErrors },
    },
    handler: async (request) => toTask(await request.authz.update('Task', request.params.id, request.body)),
  })

  fastify.delete('/:id', {
    schema: {
      tags: ['tasks'],
      operationId: 'deleteTask',
      summary: 'Delete a task',
      params: IdParams,
      response: { 204: NoContent, ...protectedErrors },
    },
    handler: async (request, reply) => {
      await request.authz.delete('Task', request.params.id)
      return reply.code(204).send(null)
    },
  })
}

export default tasks
