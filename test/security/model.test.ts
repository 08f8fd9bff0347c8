import fc from 'fast-check'
import t from 'tap'
import { PASSWORD, startApp, type TestApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { hashPassword } from '../../src/auth/password.ts'

// Model-based property test: random worlds (users of every role, projects, tasks) and random
// sequences of API calls by random users. Every answer is checked against a small reference model
// of the policy written as plain predicates (not CASL): lists hold exactly the permitted rows,
// single objects match, denied writes change nothing, and after each sequence the database
// equals the model. PROPERTY_RUNS sets the number of sequences (default 200; `npm run test:long`).

type Role = 'member' | 'auditor' | 'admin'
interface MUser {
  id: number
  role: Role
  auth: { authorization: string }
}
interface MProject {
  id: number
  ownerId: number
  name: string
}
interface MTask {
  id: number
  projectId: number
  title: string
  completed: boolean
}
interface Model {
  users: MUser[]
  projects: MProject[]
  tasks: MTask[]
}

// The policy, independently: members own projects and the tasks in them; auditors read all; admins do all.
const canRead = (u: MUser, p: MProject) => u.role !== 'member' || p.ownerId === u.id
const canManage = (u: MUser, p: MProject) => u.role === 'admin' || (u.role === 'member' && p.ownerId === u.id)
const projectOf = (m: Model, task: MTask) => m.projects.find((p) => p.id === task.projectId)!

const word = fc.stringMatching(/^[abc]{1,3}$/)
const role = fc.constantFrom<Role>('member', 'member', 'auditor', 'admin')
const pick = fc.nat({ max: 50 })
const command = fc.oneof(
  fc.record({
    kind: fc.constant('listProjects' as const),
    user: pick,
    search: fc.option(word, { nil: undefined }),
    ordering: fc.constantFrom('id', '-id', 'name', '-name'),
    limit: fc.integer({ min: 1, max: 5 }),
    offset: fc.nat({ max: 4 }),
  }),
  fc.record({
    kind: fc.constant('listTasks' as const),
    user: pick,
    search: fc.option(word, { nil: undefined }),
    ordering: fc.constantFrom('id', '-id', 'title', '-title', 'completed', '-completed'),
    completed: fc.option(fc.boolean(), { nil: undefined }),
    project: fc.option(pick, { nil: undefined }),
    limit: fc.integer({ min: 1, max: 5 }),
    offset: fc.nat({ max: 4 }),
  }),
  fc.record({ kind: fc.constant('getProject' as const), user: pick, project: pick, missing: fc.boolean() }),
  fc.record({ kind: fc.constant('getTask' as const), user: pick, task: pick }),
  fc.record({ kind: fc.constant('createProject' as const), user: pick, name: word }),
  fc.record({ kind: fc.constant('createTask' as const), user: pick, project: pick, missing: fc.boolean(), title: word }),
  fc.record({
    kind: fc.constant('patchTask' as const),
    user: pick,
    task: pick,
    title: fc.option(word, { nil: undefined }),
    completed: fc.option(fc.boolean(), { nil: undefined }),
    moveTo: fc.option(pick, { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('deleteProject' as const), user: pick, project: pick }),
  fc.record({ kind: fc.constant('deleteTask' as const), user: pick, task: pick }),
  fc.record({ kind: fc.constant('setRole' as const), user: pick, target: pick, role }),
)
type Command = typeof command extends fc.Arbitrary<infer C> ? C : never

const world = fc.record({
  roles: fc.array(role, { minLength: 2, maxLength: 4 }),
  projects: fc.array(fc.record({ owner: pick, name: word }), { maxLength: 5 }),
  tasks: fc.array(fc.record({ project: pick, title: word, completed: fc.boolean() }), { maxLength: 8 }),
  commands: fc.array(command, { minLength: 1, maxLength: 15 }),
})

const MISSING = 2_000_000_000
const at = <T>(items: T[], index: number): T | undefined => (items.length ? items[index % items.length] : undefined)

function page<T extends { id: number }>(
  rows: T[],
  ordering: string,
  limit: number,
  offset: number,
  key: (row: T) => string | number | boolean,
) {
  const desc = ordering.startsWith('-')
  const sorted = [...rows].sort((a, b) => {
    const [x, y] = [key(a), key(b)]
    if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1)
    return ordering.replace('-', '') === 'id' ? 0 : a.id - b.id
  })
  return { ids: sorted.slice(offset, offset + limit).map((r) => r.id), total: rows.length }
}

type Plan = typeof world extends fc.Arbitrary<infer P> ? P : never

async function setUp(api: TestApp, plan: Plan, passwordHash: string): Promise<Model> {
  const db = api.app.db
  await db.$executeRawUnsafe('TRUNCATE tasks, projects, users RESTART IDENTITY CASCADE')
  const users: MUser[] = []
  for (const [i, r] of plan.roles.entries()) {
    const row = await db.user.create({ data: { username: `u${i}`, role: r, passwordHash } })
    users.push({ id: row.id, role: r, auth: { authorization: `Bearer ${api.app.issueToken(row).accessToken}` } })
  }
  const projects: MProject[] = []
  for (const p of plan.projects) {
    const row = await db.project.create({ data: { ownerId: at(users, p.owner)!.id, name: p.name } })
    projects.push({ id: row.id, ownerId: row.ownerId, name: row.name })
  }
  const tasks: MTask[] = []
  for (const task of plan.tasks) {
    const parent = at(projects, task.project)
    if (!parent) continue
    const row = await db.task.create({ data: { projectId: parent.id, title: task.title, completed: task.completed } })
    tasks.push({ id: row.id, projectId: row.projectId, title: row.title, completed: row.completed })
  }
  return { users, projects, tasks }
}

/** Runs one command through HTTP, checks the answer against the model, and updates the model. */
async function step(api: TestApp, m: Model, c: Command): Promise<void> {
  const u = at(m.users, c.user)!
  const req = (method: string, url: string, payload?: object) => api.app.inject({ method: method as 'GET', url, payload, headers: u.auth })
  const expectStatus = (res: { statusCode: number; body: string }, status: number) => {
    if (res.statusCode !== status)
      throw new Error(`${JSON.stringify(c)} as ${u.role}#${u.id}: got ${res.statusCode}, expected ${status}: ${res.body.slice(0, 200)}`)
  }
  const expectSame = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want))
      throw new Error(`${JSON.stringify(c)} as ${u.role}#${u.id}: ${what} ${JSON.stringify(got)} ≠ model ${JSON.stringify(want)}`)
  }
  switch (c.kind) {
    case 'listProjects': {
      const qs = new URLSearchParams({
        ordering: c.ordering,
        limit: String(c.limit),
        offset: String(c.offset),
        ...(c.search ? { search: c.search } : {}),
      })
      const res = await req('GET', `/api/projects?${qs}`)
      expectStatus(res, 200)
      const visible = m.projects.filter((p) => canRead(u, p) && (!c.search || p.name.includes(c.search)))
      const want = page(visible, c.ordering, c.limit, c.offset, (p) => (c.ordering.endsWith('name') ? p.name : p.id))
      const body = res.json()
      expectSame('project list', { ids: body.items.map((p: { id: number }) => p.id), total: body.total }, want)
      return
    }
    case 'listTasks': {
      const filterProject = c.project === undefined ? undefined : at(m.projects, c.project)
      const qs = new URLSearchParams({
        ordering: c.ordering,
        limit: String(c.limit),
        offset: String(c.offset),
        ...(c.search ? { search: c.search } : {}),
        ...(c.completed === undefined ? {} : { completed: String(c.completed) }),
        ...(filterProject ? { projectId: String(filterProject.id) } : {}),
      })
      const res = await req('GET', `/api/tasks?${qs}`)
      expectStatus(res, 200)
      const visible = m.tasks.filter(
        (task) =>
          canRead(u, projectOf(m, task)) &&
          (!c.search || task.title.includes(c.search)) &&
          (c.completed === undefined || task.completed === c.completed) &&
          (!filterProject || task.projectId === filterProject.id),
      )
      const field = c.ordering.replace('-', '') as 'id' | 'title' | 'completed'
      const want = page(visible, c.ordering, c.limit, c.offset, (task) => (field === 'completed' ? Number(task.completed) : task[field]))
      const body = res.json()
      expectSame('task list', { ids: body.items.map((x: { id: number }) => x.id), total: body.total }, want)
      return
    }
    case 'getProject': {
      const p = c.missing ? undefined : at(m.projects, c.project)
      const res = await req('GET', `/api/projects/${p?.id ?? MISSING}`)
      expectStatus(res, p && canRead(u, p) ? 200 : 404)
      if (res.statusCode === 200) expectSame('project', { id: res.json().id, ownerId: res.json().ownerId, name: res.json().name }, p)
      return
    }
    case 'getTask': {
      const task = at(m.tasks, c.task)
      const res = await req('GET', `/api/tasks/${task?.id ?? MISSING}`)
      expectStatus(res, task && canRead(u, projectOf(m, task)) ? 200 : 404)
      return
    }
    case 'createProject': {
      const res = await req('POST', '/api/projects', { name: c.name })
      expectStatus(res, u.role === 'auditor' ? 403 : 201)
      if (res.statusCode === 201) m.projects.push({ id: res.json().id, ownerId: u.id, name: c.name })
      return
    }
    case 'createTask': {
      const p = c.missing ? undefined : at(m.projects, c.project)
      const res = await req('POST', '/api/tasks', { projectId: p?.id ?? MISSING, title: c.title })
      expectStatus(res, !p ? 400 : canManage(u, p) ? 201 : 403)
      if (res.statusCode === 201) m.tasks.push({ id: res.json().id, projectId: p!.id, title: c.title, completed: false })
      return
    }
    case 'patchTask': {
      const task = at(m.tasks, c.task)
      const target = c.moveTo === undefined ? undefined : at(m.projects, c.moveTo)
      const body = {
        ...(c.title === undefined ? {} : { title: c.title }),
        ...(c.completed === undefined ? {} : { completed: c.completed }),
        ...(target ? { projectId: target.id } : {}),
      }
      if (Object.keys(body).length === 0) return
      const res = await req('PATCH', `/api/tasks/${task?.id ?? MISSING}`, body)
      const here = task && projectOf(m, task)
      const status =
        !task || !canRead(u, here!)
          ? 404
          : !canManage(u, here!)
            ? 403
            : target && target.id !== task.projectId && !canManage(u, target)
              ? 403
              : 200
      expectStatus(res, status)
      if (status === 200) Object.assign(task!, body)
      return
    }
    case 'deleteProject': {
      const p = at(m.projects, c.project)
      const res = await req('DELETE', `/api/projects/${p?.id ?? MISSING}`)
      expectStatus(res, !p || !canRead(u, p) ? 404 : canManage(u, p) ? 204 : 403)
      if (res.statusCode === 204) {
        m.projects = m.projects.filter((x) => x !== p)
        m.tasks = m.tasks.filter((x) => x.projectId !== p!.id)
      }
      return
    }
    case 'deleteTask': {
      const task = at(m.tasks, c.task)
      const res = await req('DELETE', `/api/tasks/${task?.id ?? MISSING}`)
      const here = task && projectOf(m, task)
      expectStatus(res, !task || !canRead(u, here!) ? 404 : canManage(u, here!) ? 204 : 403)
      if (res.statusCode === 204) m.tasks = m.tasks.filter((x) => x !== task)
      return
    }
    case 'setRole': {
      const target = at(m.users, c.target)!
      const res = await req('PATCH', `/api/admin/users/${target.id}`, { role: c.role })
      // Only admins manage users and policies: demoting the last one would lock everyone out.
      const lastAdmin = target.role === 'admin' && c.role !== 'admin' && !m.users.some((x) => x !== target && x.role === 'admin')
      expectStatus(res, u.role !== 'admin' ? 403 : lastAdmin ? 422 : 200)
      if (res.statusCode === 200) target.role = c.role
      return
    }
  }
}

async function assertDatabaseEqualsModel(api: TestApp, m: Model): Promise<void> {
  const db = api.app.db
  const [users, projects, tasks] = await Promise.all([
    db.user.findMany({ orderBy: { id: 'asc' }, select: { id: true, role: true } }),
    db.project.findMany({ orderBy: { id: 'asc' }, select: { id: true, ownerId: true, name: true } }),
    db.task.findMany({ orderBy: { id: 'asc' }, select: { id: true, projectId: true, title: true, completed: true } }),
  ])
  const byId = <T extends { id: number }>(rows: T[]) => [...rows].sort((a, b) => a.id - b.id)
  const same = (what: string, got: unknown, want: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(want))
      throw new Error(`database ${what} ${JSON.stringify(got)} ≠ model ${JSON.stringify(want)}`)
  }
  same(
    'users',
    users,
    byId(m.users).map(({ id, role }) => ({ id, role })),
  )
  same('projects', projects, byId(m.projects))
  same(
    'tasks',
    tasks,
    byId(m.tasks).map(({ id, projectId, title, completed }) => ({ id, projectId, title, completed })),
  )
}

const runs = Number(process.env.PROPERTY_RUNS || 200)

// One engine: the HTTP suites already run on both; PostgreSQL when available.
for (const engine of engines.slice(-1)) {
  t.test(`${runs} random worlds and call sequences on ${engine} agree with the reference model`, async (t) => {
    const api = await startApp(t, engine)
    const passwordHash = await hashPassword(PASSWORD)
    let sequences = 0
    await fc.assert(
      fc.asyncProperty(world, async (plan) => {
        const m = await setUp(api, plan, passwordHash)
        for (const c of plan.commands) await step(api, m, c)
        await assertDatabaseEqualsModel(api, m)
        sequences++
      }),
      { numRuns: runs, endOnFailure: true },
    )
    t.ok(sequences >= runs, `${sequences} sequences checked`)
  })
}
