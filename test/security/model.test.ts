import fc from 'fast-check'
import t from 'tap'
import { PASSWORD, startApp, type TestApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { hashPassword } from '../../src/auth/password.ts'

// Model-based property test: random worlds (users of every role, projects shared with some of
// them as viewers or editors, tasks) and random sequences of API calls by random users, sharing,
// role changes, leaving and removal included. Every answer is checked against a small reference
// model of the policy written as plain predicates (not CASL): lists hold exactly the permitted
// rows, single objects match, denied writes change nothing, and after each sequence the database
// equals the model. PROPERTY_RUNS sets the number of sequences (default 160; `npm run test:long`).

type Role = 'member' | 'auditor' | 'admin'
type MemberRole = 'viewer' | 'editor'
interface MUser {
  id: number
  username: string
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
interface MMember {
  projectId: number
  userId: number
  role: MemberRole
}
interface Model {
  users: MUser[]
  projects: MProject[]
  tasks: MTask[]
  members: MMember[]
}

// The policy, independently: members own projects and the tasks in them, and read what is shared
// with them (editors also change its tasks); owners decide who a project is shared with, members
// see each other and may leave; auditors read all; admins do all.
const membership = (m: Model, u: MUser, p: MProject) => m.members.find((x) => x.projectId === p.id && x.userId === u.id)
const canRead = (m: Model, u: MUser, p: MProject) => u.role !== 'member' || p.ownerId === u.id || membership(m, u, p) !== undefined
/** Change or delete the project itself; share it, change or end its sharing. */
const canManage = (u: MUser, p: MProject) => u.role === 'admin' || (u.role === 'member' && p.ownerId === u.id)
/** Create, change, move into, delete its tasks. */
const canEditTasks = (m: Model, u: MUser, p: MProject) => canManage(u, p) || (u.role === 'member' && membership(m, u, p)?.role === 'editor')
const canLeave = (u: MUser, x: MMember) => u.role === 'member' && x.userId === u.id
const projectOf = (m: Model, row: { projectId: number }) => m.projects.find((p) => p.id === row.projectId)!
const owned = (u: MUser, p: MProject, access: 'owned' | 'shared' | undefined) =>
  access === undefined || (access === 'owned') === (p.ownerId === u.id)

const word = fc.stringMatching(/^[abc]{1,3}$/)
const role = fc.constantFrom<Role>('member', 'member', 'auditor', 'admin')
const memberRole = fc.constantFrom<MemberRole>('viewer', 'editor')
const pick = fc.nat({ max: 50 })
/** True one time in four. */
const rarely = fc.constantFrom(false, false, false, true)
const access = fc.option(fc.constantFrom('owned' as const, 'shared' as const), { nil: undefined })
const command = fc.oneof(
  fc.record({
    kind: fc.constant('listProjects' as const),
    user: pick,
    search: fc.option(word, { nil: undefined }),
    access,
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
    access,
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
  fc.record({ kind: fc.constant('listMembers' as const), user: pick, project: pick, missing: rarely }),
  // A project shared with a user by username (`unknown`: a username nobody has), by its owner or by anybody.
  fc.record({
    kind: fc.constant('share' as const),
    user: pick,
    asOwner: fc.boolean(),
    project: pick,
    target: pick,
    role: memberRole,
    unknown: rarely,
  }),
  // A membership, or (`guess`) its project with `other`, a user who may not be a member of it; by the owner or by anybody.
  fc.record({
    kind: fc.constant('changeMemberRole' as const),
    user: pick,
    asOwner: fc.boolean(),
    member: pick,
    guess: rarely,
    other: pick,
    role: memberRole,
  }),
  fc.record({ kind: fc.constant('leave' as const), user: pick, member: pick, project: pick }),
  fc.record({ kind: fc.constant('removeMember' as const), user: pick, asOwner: fc.boolean(), member: pick, guess: rarely, other: pick }),
)
type Command = typeof command extends fc.Arbitrary<infer C> ? C : never

const world = fc.record({
  roles: fc.array(role, { minLength: 2, maxLength: 4 }),
  projects: fc.array(fc.record({ owner: pick, name: word }), { maxLength: 5 }),
  tasks: fc.array(fc.record({ project: pick, title: word, completed: fc.boolean() }), { maxLength: 8 }),
  members: fc.array(fc.record({ project: pick, user: pick, role: memberRole }), { maxLength: 6 }),
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
  await db.$executeRawUnsafe('TRUNCATE project_members, tasks, projects, users RESTART IDENTITY CASCADE')
  const users: MUser[] = []
  for (const [i, r] of plan.roles.entries()) {
    const row = await db.user.create({ data: { username: `u${i}`, role: r, passwordHash } })
    users.push({ id: row.id, username: row.username, role: r, auth: { authorization: `Bearer ${api.app.issueToken(row).accessToken}` } })
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
  const members: MMember[] = []
  for (const x of plan.members) {
    const project = at(projects, x.project)
    const user = at(users, x.user)!
    // The owner is never a member of their own project; a user is a member once.
    if (!project || project.ownerId === user.id || members.some((y) => y.projectId === project.id && y.userId === user.id)) continue
    await db.projectMember.create({ data: { projectId: project.id, userId: user.id, role: x.role } })
    members.push({ projectId: project.id, userId: user.id, role: x.role })
  }
  return { users, projects, tasks, members }
}

/** Runs one command through HTTP, checks the answer against the model, and updates the model; `seen` counts the answers per command. */
async function step(api: TestApp, m: Model, c: Command, seen: Map<string, number>): Promise<void> {
  const u = actor(m, c)
  const req = async (method: string, url: string, payload?: object) => {
    const res = await api.app.inject({ method: method as 'GET', url, payload, headers: u.auth })
    const key = `${c.kind} ${res.statusCode}`
    seen.set(key, (seen.get(key) ?? 0) + 1)
    return res
  }
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
        ...(c.access ? { access: c.access } : {}),
      })
      const res = await req('GET', `/api/projects?${qs}`)
      expectStatus(res, 200)
      const visible = m.projects.filter((p) => canRead(m, u, p) && owned(u, p, c.access) && (!c.search || p.name.includes(c.search)))
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
        ...(c.access ? { access: c.access } : {}),
      })
      const res = await req('GET', `/api/tasks?${qs}`)
      expectStatus(res, 200)
      const visible = m.tasks.filter(
        (task) =>
          canRead(m, u, projectOf(m, task)) &&
          owned(u, projectOf(m, task), c.access) &&
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
      expectStatus(res, p && canRead(m, u, p) ? 200 : 404)
      if (res.statusCode === 200) expectSame('project', { id: res.json().id, ownerId: res.json().ownerId, name: res.json().name }, p)
      return
    }
    case 'getTask': {
      const task = at(m.tasks, c.task)
      const res = await req('GET', `/api/tasks/${task?.id ?? MISSING}`)
      expectStatus(res, task && canRead(m, u, projectOf(m, task)) ? 200 : 404)
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
      expectStatus(res, !p ? 400 : canEditTasks(m, u, p) ? 201 : 403)
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
        !task || !canRead(m, u, here!)
          ? 404
          : !canEditTasks(m, u, here!)
            ? 403
            : target && target.id !== task.projectId && !canEditTasks(m, u, target)
              ? 403
              : 200
      expectStatus(res, status)
      if (status === 200) Object.assign(task!, body)
      return
    }
    case 'deleteProject': {
      const p = at(m.projects, c.project)
      const res = await req('DELETE', `/api/projects/${p?.id ?? MISSING}`)
      expectStatus(res, !p || !canRead(m, u, p) ? 404 : canManage(u, p) ? 204 : 403)
      if (res.statusCode === 204) {
        m.projects = m.projects.filter((x) => x !== p)
        m.tasks = m.tasks.filter((x) => x.projectId !== p!.id)
        m.members = m.members.filter((x) => x.projectId !== p!.id)
      }
      return
    }
    case 'deleteTask': {
      const task = at(m.tasks, c.task)
      const res = await req('DELETE', `/api/tasks/${task?.id ?? MISSING}`)
      const here = task && projectOf(m, task)
      expectStatus(res, !task || !canRead(m, u, here!) ? 404 : canEditTasks(m, u, here!) ? 204 : 403)
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
    case 'listMembers': {
      const p = c.missing ? undefined : at(m.projects, c.project)
      const res = await req('GET', `/api/projects/${p?.id ?? MISSING}/members?limit=100&ordering=-id`)
      // Whoever may read the project sees all of its members; anyone else, a missing project.
      expectStatus(res, p && canRead(m, u, p) ? 200 : 404)
      if (res.statusCode === 200) {
        const body = res.json<{ items: Array<{ userId: number; role: string }>; total: number }>()
        const got = body.items.map(({ userId, role }) => ({ userId, role })).sort((a, b) => a.userId - b.userId)
        const want = m.members
          .filter((x) => x.projectId === p!.id)
          .map(({ userId, role }) => ({ userId, role }))
          .sort((a, b) => a.userId - b.userId)
        expectSame('members', { items: got, total: body.total }, { items: want, total: want.length })
      }
      return
    }
    case 'share': {
      const p = at(m.projects, c.project)
      const target = at(m.users, c.target)!
      const res = await req('POST', `/api/projects/${p?.id ?? MISSING}/members`, {
        username: c.unknown ? 'nobody' : target.username,
        role: c.role,
      })
      const status =
        !p || !canRead(m, u, p)
          ? 404
          : c.unknown
            ? 400
            : !canManage(u, p)
              ? 403
              : target.id === p.ownerId || membership(m, target, p)
                ? 409
                : 201
      expectStatus(res, status)
      if (status === 201) {
        expectSame(
          'new member',
          { projectId: res.json().projectId, userId: res.json().userId, role: res.json().role },
          {
            projectId: p!.id,
            userId: target.id,
            role: c.role,
          },
        )
        m.members.push({ projectId: p!.id, userId: target.id, role: c.role })
      }
      return
    }
    case 'changeMemberRole': {
      const x = memberOrOther(m, c.member, c.guess ? c.other : null)
      const res = await req('PATCH', `/api/projects/${x?.projectId ?? MISSING}/members/${x?.userId ?? MISSING}`, { role: c.role })
      const p = x && projectOf(m, x)
      const status = !x || !x.exists || !canRead(m, u, p!) ? 404 : canManage(u, p!) ? 200 : 403
      expectStatus(res, status)
      if (status === 200) {
        expectSame('changed member', res.json().role, c.role)
        m.members.find((y) => y.projectId === x!.projectId && y.userId === x!.userId)!.role = c.role
      }
      return
    }
    case 'leave': {
      // Mostly a membership of the caller's own, sometimes a project they are no member of.
      const mine = m.members.filter((x) => x.userId === u.id)
      const p = mine.length && c.member % 4 ? projectOf(m, at(mine, c.member)!) : at(m.projects, c.project)
      const res = await req('DELETE', `/api/projects/${p?.id ?? MISSING}/members/${u.id}`)
      const x = p && membership(m, u, p)
      expectStatus(res, !x ? 404 : canLeave(u, x) || canManage(u, p) ? 204 : 403)
      if (res.statusCode === 204) m.members = m.members.filter((y) => y !== x)
      return
    }
    case 'removeMember': {
      const x = memberOrOther(m, c.member, c.guess ? c.other : null)
      const res = await req('DELETE', `/api/projects/${x?.projectId ?? MISSING}/members/${x?.userId ?? MISSING}`)
      const p = x && projectOf(m, x)
      const stored = x?.exists ? m.members.find((y) => y.projectId === x.projectId && y.userId === x.userId) : undefined
      const status = !stored || !canRead(m, u, p!) ? 404 : canManage(u, p!) || canLeave(u, stored) ? 204 : 403
      expectStatus(res, status)
      if (status === 204) m.members = m.members.filter((y) => y !== stored)
      return
    }
  }
}

/** Who runs `c`: its user, or with `asOwner` the owner of the project it is about (sharing mostly happens so). */
function actor(m: Model, c: Command): MUser {
  const owner = (p: MProject | undefined) => p && m.users.find((x) => x.id === p.ownerId)
  if (c.kind === 'share' && c.asOwner) return owner(at(m.projects, c.project)) ?? at(m.users, c.user)!
  if ((c.kind === 'changeMemberRole' || c.kind === 'removeMember') && c.asOwner) {
    const x = memberOrOther(m, c.member, c.guess ? c.other : null)
    return owner(x && projectOf(m, x)) ?? at(m.users, c.user)!
  }
  return at(m.users, c.user)!
}

/**
 * A membership to act on: an existing one, or with `other` its project and another user, who may
 * or may not be a member (a guessed pair). `exists` says which.
 */
function memberOrOther(m: Model, member: number, other: number | null): (MMember & { exists: boolean }) | undefined {
  const x = at(m.members, member)
  if (!x) {
    const p = at(m.projects, member)
    const user = at(m.users, other ?? member)!
    return p && { projectId: p.id, userId: user.id, role: 'viewer', exists: Boolean(membership(m, user, p)) }
  }
  if (other === null) return { ...x, exists: true }
  const user = at(m.users, other)!
  const project = projectOf(m, x)
  return { projectId: x.projectId, userId: user.id, role: 'viewer', exists: Boolean(membership(m, user, project)) }
}

async function assertDatabaseEqualsModel(api: TestApp, m: Model): Promise<void> {
  const db = api.app.db
  const [users, projects, tasks, members] = await Promise.all([
    db.user.findMany({ orderBy: { id: 'asc' }, select: { id: true, role: true } }),
    db.project.findMany({ orderBy: { id: 'asc' }, select: { id: true, ownerId: true, name: true } }),
    db.task.findMany({ orderBy: { id: 'asc' }, select: { id: true, projectId: true, title: true, completed: true } }),
    db.projectMember.findMany({
      orderBy: [{ projectId: 'asc' }, { userId: 'asc' }],
      select: { projectId: true, userId: true, role: true },
    }),
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
  same(
    'members',
    members,
    [...m.members]
      .sort((a, b) => a.projectId - b.projectId || a.userId - b.userId)
      .map(({ projectId, userId, role }) => ({ projectId, userId, role })),
  )
}

const runs = Number(process.env.PROPERTY_RUNS || 160)

// One engine: the HTTP suites already run on both; PostgreSQL when available.
for (const engine of engines.slice(-1)) {
  t.test(`${runs} random worlds and call sequences on ${engine} agree with the reference model`, async (t) => {
    const api = await startApp(t, engine)
    const passwordHash = await hashPassword(PASSWORD)
    let sequences = 0
    const seen = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(world, async (plan) => {
        const m = await setUp(api, plan, passwordHash)
        for (const c of plan.commands) await step(api, m, c, seen)
        await assertDatabaseEqualsModel(api, m)
        sequences++
      }),
      { numRuns: runs, endOnFailure: true },
    )
    t.ok(sequences >= runs, `${sequences} sequences checked`)
    // What the sequences did, so a generator that stops reaching an outcome shows.
    t.comment(`answers: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`)
  })
}
