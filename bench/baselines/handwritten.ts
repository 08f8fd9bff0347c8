// Benchmark baseline, never part of the product: the API's own plugins (auth, validation,
// errors, database) and response shapes, but the benchmarked routes written the usual way,
// with ownership and membership conditions typed into each handler instead of coming from the
// policy: a member reads the projects they own or are a member of, and writes the tasks of the
// projects they own or edit.
// Comparing it with the real server prices the policy layer.
import Fastify from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { loadConfig } from '../../src/config.ts'
import { HttpProblem } from '../../src/http/problem.ts'
import auth from '../../src/plugins/auth.ts'
import configPlugin from '../../src/plugins/config.ts'
import database from '../../src/plugins/database.ts'
import errors from '../../src/plugins/errors.ts'
import validation from '../../src/plugins/validation.ts'
import type { Static } from 'typebox'
import { orderBy } from '../../src/authz/authorizer.ts'
import type { Prisma } from '../../src/generated/prisma/client.ts'
import { projectShape, ProjectListQuery, toProject } from '../../src/routes/projects/schema.ts'
import { IdParams, searchAny } from '../../src/routes/schemas.ts'
import { TaskCreate, TaskListQuery, TaskUpdate, toTask } from '../../src/routes/tasks/schema.ts'

const config = loadConfig()
const app = Fastify({ logger: { level: 'warn' }, bodyLimit: 64 * 1024 }).withTypeProvider<TypeBoxTypeProvider>()
await app.register(configPlugin, { config })
await app.register(validation)
await app.register(errors)
await app.register(database)
await app.register(auth)
const { db } = app
const notFound = (what: string) => new HttpProblem(404, 'not-found', `${what} not found.`)
const projectInclude = projectShape.include

/** Projects `userId` may read: owned or shared with them. */
const readableProject = (userId: number): Prisma.ProjectWhereInput => ({ OR: [{ ownerId: userId }, { members: { some: { userId } } }] })
/** Projects whose tasks `userId` may write: owned, or shared with them as editor. */
const editableProject = (userId: number): Prisma.ProjectWhereInput => ({
  OR: [{ ownerId: userId }, { members: { some: { userId, role: 'editor' } } }],
})

async function listPage<T, R>(
  rows: PromiseLike<T[]>,
  count: PromiseLike<number>,
  query: { limit: number; offset: number },
  toItem: (row: T) => R,
) {
  const [found, total] = await Promise.all([rows, count])
  return { items: found.map(toItem), total, limit: query.limit, offset: query.offset }
}

function listTasks(userId: number, query: Static<typeof TaskListQuery>) {
  const where = taskListWhere(userId, query)
  return listPage(
    db.task.findMany({ where, orderBy: orderBy(query.ordering, 'id'), skip: query.offset, take: query.limit }),
    db.task.count({ where }),
    query,
    toTask,
  )
}

function taskListWhere(userId: number, query: Static<typeof TaskListQuery>): Prisma.TaskWhereInput {
  return {
    AND: [
      { project: { is: readableProject(userId) } },
      searchAny(['title', 'description'], query.search),
      query.completed === undefined ? {} : { completed: query.completed },
      query.projectId === undefined ? {} : { projectId: query.projectId },
    ],
  }
}

await app.register(
  async (scope) => {
    scope.addHook('onRequest', (request) => scope.authenticate(request))
    const api = scope.withTypeProvider<TypeBoxTypeProvider>()
    api.get('/projects', { schema: { querystring: ProjectListQuery } }, async (request) => {
      const query = request.query
      const where = { AND: [readableProject(request.account.id), searchAny(['name', 'description'], query.search)] }
      return listPage(
        db.project.findMany({
          where,
          include: projectInclude,
          orderBy: orderBy(query.ordering, 'id'),
          skip: query.offset,
          take: query.limit,
        }),
        db.project.count({ where }),
        query,
        toProject,
      )
    })
    api.get('/projects/:id', { schema: { params: IdParams } }, async (request) => {
      const row = await db.project.findFirst({
        where: { id: request.params.id, ...readableProject(request.account.id) },
        include: projectInclude,
      })
      if (!row) throw notFound('Project')
      return toProject(row)
    })
    api.get('/projects/:id/tasks', { schema: { params: IdParams, querystring: TaskListQuery } }, async (request) => {
      const project = await db.project.findFirst({
        where: { id: request.params.id, ...readableProject(request.account.id) },
        select: { id: true },
      })
      if (!project) throw notFound('Project')
      return listTasks(request.account.id, { ...request.query, projectId: project.id })
    })
    api.get('/tasks', { schema: { querystring: TaskListQuery } }, async (request) => {
      return listTasks(request.account.id, request.query)
    })
    api.get('/tasks/:id', { schema: { params: IdParams } }, async (request) => {
      const row = await db.task.findFirst({ where: { id: request.params.id, project: { is: readableProject(request.account.id) } } })
      if (!row) throw notFound('Task')
      return toTask(row)
    })
    api.post('/tasks', { schema: { body: TaskCreate } }, async (request, reply) => {
      const me = request.account.id
      const row = await db.$transaction(async (tx) => {
        const project = await tx.project.findUnique({
          where: { id: request.body.projectId },
          select: { ownerId: true, members: { where: { userId: me }, select: { role: true } } },
        })
        if (!project) throw new HttpProblem(400, 'invalid-reference', 'projectId: no project with this id exists.')
        if (project.ownerId !== me && project.members[0]?.role !== 'editor')
          throw new HttpProblem(403, 'forbidden', 'You cannot create tasks for this project.')
        return tx.task.create({ data: request.body })
      })
      return reply.code(201).send(toTask(row))
    })
    api.patch('/tasks/:id', { schema: { params: IdParams, body: TaskUpdate } }, async (request) => {
      const me = request.account.id
      const row = await db.$transaction(async (tx) => {
        const task = await tx.task.findFirst({
          where: { id: request.params.id, project: { is: readableProject(me) } },
          select: { id: true, project: { select: { ownerId: true, members: { where: { userId: me }, select: { role: true } } } } },
        })
        if (!task) throw notFound('Task')
        if (task.project.ownerId !== me && task.project.members[0]?.role !== 'editor')
          throw new HttpProblem(403, 'forbidden', 'You cannot change this task.')
        if (request.body.projectId !== undefined) {
          const target = await tx.project.findFirst({ where: { id: request.body.projectId, ...editableProject(me) }, select: { id: true } })
          if (!target) {
            if (!(await tx.project.count({ where: { id: request.body.projectId } })))
              throw new HttpProblem(400, 'invalid-reference', 'projectId: no project with this id exists.')
            throw new HttpProblem(403, 'forbidden', 'You cannot move tasks into this project.')
          }
        }
        return tx.task.update({ where: { id: task.id }, data: request.body })
      })
      return toTask(row)
    })
  },
  { prefix: '/api' },
)
await app.listen({ host: '127.0.0.1', port: config.port })
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0))
})
