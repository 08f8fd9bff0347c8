import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdParams, NoContent, page, protectedErrors, searchAny } from '../schemas.ts'
import { listTasks } from '../tasks/list.ts'
import { Task, TaskListQuery } from '../tasks/schema.ts'
import access from './access.ts'
import members from './members.ts'
import { ownership, Project, ProjectCreate, ProjectListQuery, ProjectUpdate, projectShape, toProject } from './schema.ts'

const projects: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('', {
    schema: {
      tags: ['projects'],
      operationId: 'listProjects',
      summary: 'Projects the caller may read',
      querystring: ProjectListQuery,
      response: { 200: page(Project), ...protectedErrors },
    },
    handler: async (request) =>
      request.authz.list('Project', request.query, {
        filters: [searchAny(['name', 'description'], request.query.search), ownership(request.query.access, request.account.id)],
        shape: projectShape,
        toItem: toProject,
      }),
  })

  fastify.post('', {
    schema: {
      tags: ['projects'],
      operationId: 'createProject',
      summary: 'Create a project owned by the caller',
      body: ProjectCreate,
      response: { 201: Project, ...protectedErrors },
    },
    handler: async (request, reply) => {
      // The owner comes from the token; the policy decides whether this owner may create it.
      const data = { ...request.body, ownerId: request.account.id }
      const row = await request.authz.create('Project', data, { clientFields: Object.keys(request.body), shape: projectShape })
      return reply.code(201).send(toProject(row))
    },
  })

  fastify.get('/:id', {
    schema: {
      tags: ['projects'],
      operationId: 'getProject',
      summary: 'One project',
      params: IdParams,
      response: { 200: Project, ...protectedErrors },
    },
    handler: async (request) => toProject(await request.authz.findOne('Project', request.params.id, 'read', projectShape)),
  })

  fastify.patch('/:id', {
    schema: {
      tags: ['projects'],
      operationId: 'updateProject',
      summary: 'Change a project',
      params: IdParams,
      body: ProjectUpdate,
      response: { 200: Project, ...protectedErrors },
    },
    handler: async (request) => toProject(await request.authz.update('Project', request.params.id, request.body, { shape: projectShape })),
  })

  fastify.delete('/:id', {
    schema: {
      tags: ['projects'],
      operationId: 'deleteProject',
      summary: 'Delete a project and its tasks',
      params: IdParams,
      response: { 204: NoContent, ...protectedErrors },
    },
    handler: async (request, reply) => {
      await request.authz.delete('Project', request.params.id)
      return reply.code(204).send(null)
    },
  })

  fastify.get('/:id/tasks', {
    schema: {
      tags: ['projects', 'tasks'],
      operationId: 'listProjectTasks',
      summary: 'Tasks of one project that the caller may read',
      params: IdParams,
      querystring: TaskListQuery,
      response: { 200: page(Task), ...protectedErrors },
    },
    handler: async (request) => {
      await request.authz.findOne('Project', request.params.id)
      return listTasks(request.authz, { ...request.query, projectId: request.params.id })
    },
  })

  await fastify.register(members, { prefix: '/:id/members' })
  await fastify.register(access, { prefix: '/:id/access' })
}

export default projects
