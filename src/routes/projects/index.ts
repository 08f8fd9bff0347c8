import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Prisma } from '../../generated/prisma/client.ts'
import { IdParams, NoContent, listPage, orderBy, page, protectedErrors, searchAny, type ListQuery } from '../schemas.ts'
import { listTasks } from '../tasks/list.ts'
import { Task, TaskListQuery, type TaskListFilters } from '../tasks/schema.ts'
import { Project, ProjectCreate, ProjectListQuery, ProjectUpdate, projectInclude, toProject } from './schema.ts'

type ProjectRow = Prisma.ProjectGetPayload<{ include: typeof projectInclude }>

const projects: FastifyPluginAsyncTypebox = async (fastify) => {
  const { db } = fastify

  fastify.get('', {
    schema: { tags: ['projects'], summary: 'Projects the caller may read', querystring: ProjectListQuery, response: { 200: page(Project), ...protectedErrors } },
    handler: async (request) => {
      const query = request.query as ListQuery
      const where: Prisma.ProjectWhereInput = {
        AND: [request.authz.where('read', 'Project'), searchAny(['name', 'description'], query.search)],
      }
      return listPage(
        db.project.findMany({ where, include: projectInclude, orderBy: orderBy(query.ordering), skip: query.offset, take: query.limit }),
        db.project.count({ where }),
        query,
        toProject,
      )
    },
  })

  fastify.post('', {
    schema: { tags: ['projects'], summary: 'Create a project owned by the caller', body: ProjectCreate, response: { 201: Project, ...protectedErrors } },
    handler: async (request, reply) => {
      // The owner comes from the token; the policy decides whether this owner may create it.
      const data = { ...request.body, ownerId: request.account.id }
      const row = await db.$transaction(async (tx) => {
        await request.authz.authorizeCreate(tx, 'Project', data, Object.keys(request.body))
        return tx.project.create({ data, include: projectInclude })
      })
      return reply.code(201).send(toProject(row))
    },
  })

  fastify.get('/:id', {
    schema: { tags: ['projects'], summary: 'One project', params: IdParams, response: { 200: Project, ...protectedErrors } },
    handler: async (request) =>
      toProject(await request.authz.findOne<ProjectRow>(db, 'Project', request.params.id, 'read', projectInclude)),
  })

  fastify.patch('/:id', {
    schema: { tags: ['projects'], summary: 'Change a project', params: IdParams, body: ProjectUpdate, response: { 200: Project, ...protectedErrors } },
    handler: async (request) => {
      const row = await db.$transaction(async (tx) => {
        await request.authz.findForUpdate(tx, 'Project', request.params.id, request.body)
        return tx.project.update({ where: { id: request.params.id }, data: request.body, include: projectInclude })
      })
      return toProject(row)
    },
  })

  fastify.delete('/:id', {
    schema: { tags: ['projects'], summary: 'Delete a project and its tasks', params: IdParams, response: { 204: NoContent, ...protectedErrors } },
    handler: async (request, reply) => {
      await db.$transaction(async (tx) => {
        await request.authz.findOne(tx, 'Project', request.params.id, 'delete')
        await tx.project.delete({ where: { id: request.params.id } })
      })
      return reply.code(204).send(null)
    },
  })

  fastify.get('/:id/tasks', {
    schema: {
      tags: ['projects', 'tasks'],
      summary: 'Tasks of one project that the caller may read',
      params: IdParams,
      querystring: TaskListQuery,
      response: { 200: page(Task), ...protectedErrors },
    },
    handler: async (request) => {
      await request.authz.findOne(db, 'Project', request.params.id, 'read')
      return listTasks(db, request.authz, { ...(request.query as TaskListFilters), projectId: request.params.id })
    },
  })
}

export default projects
