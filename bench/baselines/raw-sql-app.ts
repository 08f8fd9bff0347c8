// Benchmark ceiling, never part of the product: Fastify + pg + hand-written SQL for the same
// scenarios, with the same authentication work (verify the JWT, read the account) and the same
// sharing semantics as the policy: a member reads the projects they own or are a member of and
// their tasks, and writes tasks of the projects they own or edit. What this machine can do for
// the work; the real server's ratio to it shows what the ORM and policy cost.
// Each statement is the best we can write for its scenario, and npm run bench EXPLAINs them
// like the real server's (named ones under generic plans too: pg prepares them once per
// connection, and PostgreSQL may switch a prepared statement to a generic plan after five runs).
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import pg from 'pg'

/** What the routes need of a pool; the benchmark's plan check passes one that records. */
export interface Queryable {
  query(config: pg.QueryConfig | string): Promise<pg.QueryResult>
  connect(): Promise<Pick<Queryable, 'query'> & { release(): void }>
}

export async function buildRawSql(pool: Queryable, secret: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: 'warn' } })
  await app.register(fastifyJwt, { secret, verify: { algorithms: ['HS256'] } })
  const problem = (status: number, detail: string) => ({ type: 'about:blank', title: String(status), status, detail })
  const page = (query: Record<string, string>) => ({ limit: Math.min(Number(query.limit ?? 50), 100), offset: Number(query.offset ?? 0) })
  const ORDER: Record<string, string> = {
    id: 'id ASC',
    '-id': 'id DESC',
    title: 'title ASC, id',
    '-title': 'title DESC, id',
    name: 'name ASC, id',
    '-name': 'name DESC, id',
  }
  const like = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
  const project = (r: Record<string, unknown>) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    ownerId: r.owner_id,
    owner: r.username,
    createdAt: (r.created_at as Date).toISOString(),
  })
  const task = (r: Record<string, unknown>) => ({
    id: r.id,
    projectId: r.project_id,
    title: r.title,
    description: r.description,
    completed: r.completed,
    createdAt: (r.created_at as Date).toISOString(),
  })

  async function account(request: FastifyRequest): Promise<{ id: number } | null> {
    try {
      const { sub } = await request.jwtVerify<{ sub: string }>()
      const { rows } = await pool.query({
        name: 'account',
        text: 'SELECT id, username, role FROM users WHERE id = $1',
        values: [Number(sub)],
      })
      return rows[0] ?? null
    } catch {
      return null
    }
  }

  const accounts = new WeakMap<FastifyRequest, number>()
  app.addHook('onRequest', async (request, reply) => {
    const user = await account(request)
    if (!user) return reply.code(401).send(problem(401, 'unauthorized'))
    accounts.set(request, user.id)
  })
  const me = (request: FastifyRequest) => accounts.get(request)!

  // The projects a member reads, each side from its own index: owned (projects (owner_id, id))
  // and shared (project_members (user_id, project_id)). The owner is never a member, but UNION
  // keeps the answer right without relying on it.
  const READABLE_IDS = 'SELECT id FROM projects WHERE owner_id = $1 UNION SELECT project_id FROM project_members WHERE user_id = $1'
  // One project `p` the member `$n` may read, or write tasks of: a semi-join on project_members (project_id, user_id).
  const readable = (user: string) =>
    `(p.owner_id = ${user} OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ${user}))`
  const editable = (user: string) =>
    `(p.owner_id = ${user} OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ${user} AND m.role = 'editor'))`
  /** After a write matched nothing: 404 for a task the caller cannot read, else 403. */
  const canReadTask = async (id: number, user: number) =>
    Boolean(
      (
        await pool.query({
          name: 'task-readable',
          text: `SELECT 1 FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = $1 AND ${readable('$2')}`,
          values: [id, user],
        })
      ).rowCount,
    )

  app.get('/api/projects', async (request) => {
    const { limit, offset } = page(request.query as Record<string, string>)
    const [rows, total] = await Promise.all([
      pool.query({
        name: 'projects',
        // The page of ids first (LIMIT keeps the subquery apart), then each row by key: joined
        // as a set, the planner would rather hash the whole projects table than probe it.
        text: `SELECT p.*, u.username FROM (SELECT id FROM (${READABLE_IDS}) r ORDER BY id LIMIT $2 OFFSET $3) r
               CROSS JOIN LATERAL (SELECT * FROM projects p WHERE p.id = r.id LIMIT 1) p
               CROSS JOIN LATERAL (SELECT username FROM users u WHERE u.id = p.owner_id LIMIT 1) u
               ORDER BY p.id`,
        values: [me(request), limit, offset],
      }),
      pool.query({ name: 'projects-count', text: `SELECT count(*)::int AS n FROM (${READABLE_IDS}) r`, values: [me(request)] }),
    ])
    return { items: rows.rows.map(project), total: total.rows[0].n, limit, offset }
  })

  app.get('/api/projects/:id', async (request, reply) => {
    const { rows } = await pool.query({
      name: 'project',
      text: `SELECT p.*, u.username FROM projects p JOIN users u ON u.id = p.owner_id WHERE p.id = $1 AND ${readable('$2')}`,
      values: [Number((request.params as { id: string }).id), me(request)],
    })
    return rows[0] ? project(rows[0]) : reply.code(404).send(problem(404, 'Project not found.'))
  })

  app.get('/api/projects/:id/tasks', async (request, reply) => {
    const query = request.query as Record<string, string>
    const { limit, offset } = page(query)
    const id = Number((request.params as { id: string }).id)
    const visible = await pool.query({
      name: 'project-readable',
      text: `SELECT 1 FROM projects p WHERE p.id = $1 AND ${readable('$2')}`,
      values: [id, me(request)],
    })
    if (!visible.rowCount) return reply.code(404).send(problem(404, 'Project not found.'))
    const search = query.search ? like(query.search) : '%'
    const order = ORDER[query.ordering ?? 'id'] ?? 'id ASC'
    const where = 'FROM tasks t WHERE t.project_id = $1 AND (t.title ILIKE $2 OR t.description ILIKE $2)'
    const [rows, total] = await Promise.all([
      pool.query({ text: `SELECT t.* ${where} ORDER BY ${order} LIMIT $3 OFFSET $4`, values: [id, search, limit, offset] }),
      pool.query({ text: `SELECT count(*)::int AS n ${where}`, values: [id, search] }),
    ])
    return { items: rows.rows.map(task), total: total.rows[0].n, limit, offset }
  })

  app.get('/api/tasks', async (request) => {
    const { limit, offset } = page(request.query as Record<string, string>)
    // Per readable project (owned ∪ shared), its first limit + offset tasks from (project_id, id),
    // then merged: the join leaves the planner no way to walk tasks in id order and filter by
    // owner or membership, a plan that costs the whole table for a caller whose rows come last.
    const [rows, total] = await Promise.all([
      pool.query({
        name: 'tasks',
        text: `SELECT t.* FROM (${READABLE_IDS}) p CROSS JOIN LATERAL (
                 SELECT * FROM tasks t WHERE t.project_id = p.id ORDER BY t.id LIMIT $2::int + $3::int) t
               ORDER BY t.id LIMIT $2 OFFSET $3`,
        values: [me(request), limit, offset],
      }),
      pool.query({
        name: 'tasks-count',
        text: `SELECT coalesce(sum(n), 0)::int AS n FROM (${READABLE_IDS}) p CROSS JOIN LATERAL (
                 SELECT count(*) AS n FROM tasks t WHERE t.project_id = p.id) t`,
        values: [me(request)],
      }),
    ])
    return { items: rows.rows.map(task), total: total.rows[0].n, limit, offset }
  })

  app.get('/api/tasks/:id', async (request, reply) => {
    const { rows } = await pool.query({
      name: 'task',
      text: `SELECT t.* FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.id = $1 AND ${readable('$2')}`,
      values: [Number((request.params as { id: string }).id), me(request)],
    })
    return rows[0] ? task(rows[0]) : reply.code(404).send(problem(404, 'Task not found.'))
  })

  app.post('/api/tasks', async (request, reply) => {
    const body = request.body as { projectId: number; title: string }
    // The check and the write in one statement; only a refusal asks which one it is.
    const { rows } = await pool.query({
      name: 'task-insert',
      text: `INSERT INTO tasks (project_id, title) SELECT p.id, $2 FROM projects p WHERE p.id = $1 AND ${editable('$3')} RETURNING *`,
      values: [body.projectId, body.title, me(request)],
    })
    if (rows[0]) return reply.code(201).send(task(rows[0]))
    const exists = await pool.query({ name: 'task-parent', text: 'SELECT 1 FROM projects WHERE id = $1', values: [body.projectId] })
    if (!exists.rowCount) return reply.code(400).send(problem(400, 'projectId: no project with this id exists.'))
    return reply.code(403).send(problem(403, 'You cannot create tasks for this project.'))
  })

  app.patch('/api/tasks/:id', async (request, reply) => {
    const body = request.body as { completed?: boolean }
    const id = Number((request.params as { id: string }).id)
    const { rows } = await pool.query({
      name: 'task-update',
      text: `UPDATE tasks t SET completed = COALESCE($3, t.completed) FROM projects p
             WHERE t.id = $1 AND p.id = t.project_id AND ${editable('$2')} RETURNING t.*`,
      values: [id, me(request), body.completed ?? null],
    })
    if (rows[0]) return task(rows[0])
    return (await canReadTask(id, me(request)))
      ? reply.code(403).send(problem(403, 'You cannot change this task.'))
      : reply.code(404).send(problem(404, 'Task not found.'))
  })

  return app
}
