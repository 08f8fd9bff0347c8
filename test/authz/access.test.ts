import fc from 'fast-check'
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  PROJECT_QUESTIONS,
  REACH_ACTIONS,
  REACH_SUBJECTS,
  whatCanUserDo,
  whoCanAccess,
  type Grants,
  type ProjectAccess,
  type Reach,
} from '../../src/authz/access.ts'
import type { CompiledRules } from '../../src/authz/compiled-rules.ts'
import { decideCreate, decideOn } from '../../src/authz/decisions.ts'
import { projectRoot } from '../../src/db/migrations.ts'
import { compileRules, PolicyValidationError } from '../../src/policy/validate.ts'
import type { RawRule, RuleDocument } from '../../src/shared/rule-format.ts'
import { startApp, type Account, type TestApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// The reverse queries against brute force. Random worlds (users of every role, projects,
// memberships, tasks) and, for each, who may reach a few projects and what a few users may
// reach, compared with asking the same decision functions about every user and every object.
// The policy is the one in policies/ (through HTTP), hand-written variants that exercise every
// path of the inversion (pruned or not, one ability per role or not, scanned), and random member
// rules with the user's values in random places. ACCESS_PROPERTY_RUNS and ACCESS_PROPERTY_SEED
// set the number of worlds and the seed.

const runs = Number(process.env.ACCESS_PROPERTY_RUNS || 10)
const seed = Number(process.env.ACCESS_PROPERTY_SEED || 20261202)

type Row = Record<string, unknown>
interface WorldUser {
  id: number
  username: string
  role: string
}

const world = fc.record({
  roles: fc.array(fc.constantFrom('member', 'member', 'member', 'auditor', 'admin'), { minLength: 2, maxLength: 10 }),
  projects: fc.array(fc.record({ owner: fc.nat(), name: fc.constantFrom('public', 'plain', 'u1', 'u2', 'member') }), {
    minLength: 1,
    maxLength: 4,
  }),
  memberships: fc.array(fc.record({ project: fc.nat(), user: fc.nat(), role: fc.constantFrom('viewer', 'editor') }), { maxLength: 10 }),
  tasks: fc.array(fc.record({ project: fc.nat(), title: fc.constantFrom('t', 'u1') }), { maxLength: 5 }),
})
type World = typeof world extends fc.Arbitrary<infer W> ? W : never

/** Empties the tables and writes the world; the caller is an admin of its own, also part of the world. */
async function build(api: TestApp, plan: World): Promise<{ caller: Account; users: WorldUser[]; projects: number[] }> {
  const db = api.app.db
  await db.$executeRawUnsafe('TRUNCATE users, projects, tasks, project_members RESTART IDENTITY CASCADE')
  const caller = await api.user('admin', 'root')
  const users: WorldUser[] = [{ id: caller.id, username: caller.username, role: 'admin' }]
  for (const [i, role] of plan.roles.entries()) {
    const row = await db.user.create({ data: { username: `u${i}`, role, passwordHash: 'not-a-login' } })
    users.push({ id: row.id, username: row.username, role })
  }
  const projects: Array<{ id: number; ownerId: number }> = []
  for (const p of plan.projects) {
    projects.push(await db.project.create({ data: { name: p.name, ownerId: users[p.owner % users.length]!.id } }))
  }
  const seen = new Set<string>()
  for (const m of plan.memberships) {
    const project = projects[m.project % projects.length]!
    const user = users[m.user % users.length]!
    if (user.id === project.ownerId || seen.has(`${project.id}:${user.id}`)) continue
    seen.add(`${project.id}:${user.id}`)
    await db.projectMember.create({ data: { projectId: project.id, userId: user.id, role: m.role } })
  }
  for (const task of plan.tasks)
    await db.task.create({ data: { projectId: projects[task.project % projects.length]!.id, title: task.title } })
  return { caller, users, projects: projects.map((p) => p.id) }
}

// ---------------------------------------------------------------------------------------------
// Brute force: every user, every object, the decision functions.

async function expectedGrants(api: TestApp, compiled: CompiledRules, projectId: number): Promise<Map<number, Grants>> {
  const db = api.app.db
  const include = compiled.relationSelects.get('Project')
  const project = (await db.project.findUnique({ where: { id: projectId }, ...(include ? { include: include as never } : {}) })) as Row
  // As the authorizer loads the parent of a new task.
  const parent = (await db.project.findUnique({
    where: { id: projectId },
    select: { id: true, ...(compiled.relationSelects.get('Task')?.project?.select ?? {}) } as never,
  })) as Row
  const out = new Map<number, Grants>()
  for (const user of await db.user.findMany({ select: { id: true, username: true, role: true } })) {
    const ability = compiled.abilityFor(user)
    const decisions = {
      read: decideOn(ability, 'read', 'Project', project),
      update: decideOn(ability, 'update', 'Project', project),
      delete: decideOn(ability, 'delete', 'Project', project),
      createTask: decideCreate(
        ability,
        'Task',
        { projectId },
        { field: 'projectId', subject: 'Project', relation: 'project', row: parent },
      ),
    }
    const grants: Grants = {}
    for (const question of PROJECT_QUESTIONS) if (decisions[question].allowed) grants[question] = decisions[question].ruleId
    out.set(user.id, grants)
  }
  return out
}

/** The answer read back per user: listed users their own grants, everyone else their role's. */
function answeredGrants(answer: ProjectAccess, users: WorldUser[]): Map<number, Grants> {
  const listed = new Map(answer.users.items.map((item) => [item.userId, item.grants]))
  const byRole = new Map(answer.roles.map((entry) => [entry.role, entry.grants]))
  return new Map(users.map((user) => [user.id, listed.get(user.id) ?? byRole.get(user.role) ?? {}]))
}

const key = (grants: Grants | undefined) => JSON.stringify(PROJECT_QUESTIONS.map((q) => grants?.[q] ?? null))

function fail(what: string, detail: unknown): never {
  throw new Error(`${what}: ${JSON.stringify(detail, null, 1).slice(0, 3000)}`)
}

/** Checks one answer against brute force; returns the methods the roles were answered by. */
async function checkProject(api: TestApp, compiled: CompiledRules, projectId: number, answer: ProjectAccess, context: unknown) {
  const users = await api.app.db.user.findMany({ select: { id: true, username: true, role: true }, orderBy: { id: 'asc' } })
  const expected = await expectedGrants(api, compiled, projectId)
  const answered = answeredGrants(answer, users)
  for (const user of users) {
    if (key(expected.get(user.id)) !== key(answered.get(user.id))) {
      fail(
        `project ${projectId}, ${user.username} (${user.role}): expected ${key(expected.get(user.id))}, answered ${key(answered.get(user.id))}`,
        {
          context,
          answer,
        },
      )
    }
  }
  const roleOf = new Map(users.map((user) => [user.id, user.role]))
  for (const item of answer.users.items) {
    const entry = answer.roles.find((role) => role.role === item.role)
    if (!entry || key(entry.grants) === key(item.grants) || roleOf.get(item.userId) !== item.role)
      fail('a user listed needlessly', { item, answer })
  }
  for (const entry of answer.roles) {
    const holders = users.filter((user) => user.role === entry.role)
    if (entry.count !== holders.length) fail(`${entry.role}: count ${entry.count}, ${holders.length} users`, answer)
    if (entry.listed !== answer.users.items.filter((item) => item.role === entry.role).length) fail(`${entry.role}: listed`, answer)
  }
  if (answer.users.total !== answer.users.items.length) fail('one page holds everybody here', answer)
  return new Map(answer.roles.map((entry) => [entry.role, entry.method]))
}

async function checkUser(
  api: TestApp,
  compiled: CompiledRules,
  user: WorldUser,
  reach: Reach[],
  limit: number,
  offset: number,
  context: unknown,
) {
  const db = api.app.db as unknown as Record<string, { findMany(args: object): Promise<Row[]> }>
  const ability = compiled.abilityFor(user)
  for (const subject of REACH_SUBJECTS) {
    const include = compiled.relationSelects.get(subject)
    const rows = await db[subject[0]!.toLowerCase() + subject.slice(1)]!.findMany({
      ...(include ? { include } : {}),
      ...(subject === 'User' ? { omit: { passwordHash: true } } : {}),
      orderBy: { id: 'asc' },
    })
    for (const action of REACH_ACTIONS) {
      const allowed = rows.flatMap((row) => {
        const decision = decideOn(ability, action, subject, row)
        return decision.allowed ? [{ id: row.id as number, ruleId: decision.ruleId }] : []
      })
      const byRule = new Map<string | null, number>()
      for (const { ruleId } of allowed) byRule.set(ruleId, (byRule.get(ruleId) ?? 0) + 1)
      const got = reach.find((entry) => entry.subject === subject && entry.action === action)
      const expected = {
        count: allowed.length,
        ids: allowed.slice(offset, offset + limit).map((a) => a.id),
        rules: [...byRule].sort(([a], [b]) => String(a).localeCompare(String(b))),
      }
      const answered = got && {
        count: got.count,
        ids: got.ids,
        rules: got.rules
          .filter((rule) => rule.count > 0)
          .map((rule) => [rule.ruleId, rule.count] as const)
          .sort(([a], [b]) => String(a).localeCompare(String(b))),
      }
      if (JSON.stringify(expected) !== JSON.stringify(answered))
        fail(`${user.username} (${user.role}) ${action} ${subject}`, { expected, answered, context })
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Policies.

const base = JSON.parse(readFileSync(join(projectRoot, 'policies', 'rules.json'), 'utf8')) as RuleDocument
const withMember = (member: RawRule[], extra: RuleDocument = {}): RuleDocument => ({ ...base, member, ...extra })

/** Each exercises a path of the inversion; `methods` says how each role must have been answered. */
const VARIANTS: Array<{ name: string; document: RuleDocument; methods: Record<string, string> }> = [
  {
    name: 'pruned, one ability per role: NOT, OR with a constant, forbidding rules, usernames, the role placeholder',
    document: withMember(
      [
        {
          id: 'm.read.own-or-public',
          action: 'read',
          subject: 'Project',
          conditions: { OR: [{ ownerId: '${user.id}' }, { name: 'public' }] },
        },
        { id: 'm.read.by-username', action: 'read', subject: 'Project', conditions: { owner: { is: { username: '${user.username}' } } } },
        {
          id: 'm.update.editor',
          action: ['read', 'update'],
          subject: 'Project',
          conditions: { members: { some: { userId: '${user.id}', role: 'editor' } }, NOT: { name: 'plain' } },
        },
        {
          id: 'm.delete.not-mine',
          action: 'delete',
          subject: 'Project',
          conditions: { ownerId: { not: '${user.id}' }, owner: { is: { role: '${user.role}' } } },
        },
        {
          id: 'm.no-delete-of-shared',
          action: 'delete',
          subject: 'Project',
          inverted: true,
          conditions: { members: { some: { userId: { in: ['${user.id}'] } } } },
        },
        {
          id: 'm.tasks.shared',
          action: 'create',
          subject: 'Task',
          conditions: { project: { is: { members: { some: { AND: [{ userId: '${user.id}' }, { role: { not: 'viewer' } }] } } } } },
        },
        { id: 'm.tasks.own', action: 'manage', subject: 'Task', conditions: { project: { is: { ownerId: { notIn: ['${user.id}'] } } } } },
      ],
      {
        // A personal role (it names the user's role) whose rules name nobody: one answer for all.
        auditor: [
          { id: 'a.read.of-auditors', action: 'read', subject: 'Project', conditions: { owner: { is: { role: '${user.role}' } } } },
        ],
      },
    ),
    methods: { member: 'inverted', auditor: 'inverted', admin: 'inverted' },
  },
  {
    name: 'not pruned, one ability per user: every, none, a list some without the user, constants beside the user',
    document: withMember([
      { id: 'm.read.all-members', action: 'read', subject: 'Project', conditions: { members: { every: { userId: '${user.id}' } } } },
      { id: 'm.read.none', action: 'read', subject: 'Project', conditions: { members: { none: { userId: '${user.id}' } }, name: 'u1' } },
      {
        id: 'm.update.editors',
        action: 'update',
        subject: 'Project',
        conditions: { members: { some: { OR: [{ userId: '${user.id}' }, { role: 'editor' }] } } },
      },
      { id: 'm.delete.listed', action: 'delete', subject: 'Project', conditions: { ownerId: { in: ['${user.id}', 2, 3] } } },
      // The owner's id compared with a constant as well as with the user's: the user's own ability decides.
      { id: 'm.update.of-u0', action: 'update', subject: 'Project', conditions: { ownerId: 2 } },
      { id: 'm.read.named', action: 'read', subject: 'Project', conditions: { name: { in: ['${user.username}', 'plain'] } } },
      {
        id: 'm.tasks',
        action: 'create',
        subject: 'Task',
        conditions: { OR: [{ project: { is: { ownerId: 3 } } }, { project: { is: { ownerId: '${user.id}' } } }] },
      },
    ]),
    methods: { member: 'inverted', auditor: 'inverted', admin: 'inverted' },
  },
  {
    name: 'scanned: an ordering comparison with the user, a placeholder inside a text',
    document: withMember([
      ...base.member!,
      { id: 'm.read.newer', action: 'read', subject: 'Project', conditions: { ownerId: { gt: '${user.id}' } } },
      { id: 'm.update.named', action: 'update', subject: 'Project', conditions: { name: 'x-${user.username}' } },
    ]),
    methods: { member: 'scan', auditor: 'inverted', admin: 'inverted' },
  },
]

// ---------------------------------------------------------------------------------------------
// Random member rules: the user's values anywhere the policy may put them.

const id = fc.oneof(fc.constant('${user.id}'), fc.integer({ min: 1, max: 6 }))
const onInt = fc.oneof(
  id,
  fc.record({ equals: id }),
  fc.record({ in: fc.array(id, { minLength: 1, maxLength: 2 }) }),
  fc.record({ notIn: fc.array(id, { minLength: 1, maxLength: 2 }) }),
  fc.record({ not: id }),
  fc.record({ gte: id }),
)
const name = fc.constantFrom('${user.username}', 'u1', 'public', '${user.role}')
const onText = fc.oneof(name, fc.record({ in: fc.array(name, { minLength: 1, maxLength: 2 }) }), fc.record({ not: name }))
const member = fc.oneof(
  fc.record({ userId: onInt }),
  fc.record({ userId: onInt, role: fc.constantFrom('viewer', 'editor') }),
  fc.record({ role: fc.constantFrom('viewer', 'editor') }),
)
const { project } = fc.letrec<{ project: Row }>((tie) => ({
  project: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ ownerId: onInt }),
    fc.record({ name: onText }),
    fc.record({ owner: fc.record({ is: fc.oneof(fc.record({ username: onText }), fc.record({ id: onInt })) }) }),
    fc.record({ members: fc.oneof(fc.record({ some: member }), fc.record({ every: member }), fc.record({ none: member })) }),
    fc.record({ AND: fc.array(tie('project'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ OR: fc.array(tie('project'), { minLength: 1, maxLength: 2 }) }),
    fc.record({ NOT: tie('project') }),
  ),
}))
const task = fc.oneof(fc.record({ project: fc.record({ is: project }) }), fc.record({ projectId: onInt }))
const randomRule = fc.oneof(
  fc.record({
    action: fc.constantFrom('read', 'update', 'delete', 'manage'),
    subject: fc.constant('Project'),
    conditions: project,
    inverted: fc.boolean(),
  }),
  fc.record({ action: fc.constantFrom('create', 'manage'), subject: fc.constant('Task'), conditions: task, inverted: fc.boolean() }),
)
const randomRules = fc.array(randomRule, { minLength: 1, maxLength: 4 })

// ---------------------------------------------------------------------------------------------

for (const engine of engines) {
  t.test(`${runs} random worlds on ${engine}: the reverse queries agree with brute force`, async (t) => {
    const api = await startApp(t, engine)
    const methodsSeen = new Set<string>()
    let randomCompiled = 0

    await fc.assert(
      fc.asyncProperty(world, randomRules, async (plan, generated) => {
        const { caller, users, projects } = await build(api, plan)

        // The policy in policies/, through HTTP.
        const active = api.app.policies.current
        for (const projectId of projects.slice(0, 2)) {
          const res = await api.request({ url: `/api/projects/${projectId}/access?limit=100`, as: caller })
          if (res.statusCode !== 200) fail(`GET access answered ${res.statusCode}`, res.json())
          const methods = await checkProject(api, active, projectId, res.json<ProjectAccess>(), { policy: 'policies/', plan })
          for (const method of methods.values()) methodsSeen.add(`policies/:${method}`)
        }
        for (const user of users.slice(1, 3)) {
          const res = await api.request({ url: `/api/admin/users/${user.id}/access?limit=2&offset=1`, as: caller })
          if (res.statusCode !== 200) fail(`GET user access answered ${res.statusCode}`, res.json())
          await checkUser(api, active, user, res.json<{ reach: Reach[] }>().reach, 2, 1, { policy: 'policies/', plan })
        }

        // Variants and random rules, compiled directly.
        const random = JSON.parse(JSON.stringify(generated)) as Array<Omit<RawRule, 'id'>>
        const policies: Array<{ name: string; document: RuleDocument; methods?: Record<string, string> }> = [
          ...VARIANTS,
          { name: 'random', document: withMember(random.map((rule, i) => ({ ...rule, id: `gen.${i}` }))) },
        ]
        for (const policy of policies) {
          let compiled: CompiledRules
          try {
            compiled = compileRules(policy.document, 7)
          } catch (error) {
            if (policy.name === 'random' && error instanceof PolicyValidationError) continue
            throw error
          }
          if (policy.name === 'random') randomCompiled++
          for (const projectId of projects.slice(0, 2)) {
            const answer = (await whoCanAccess(api.app.db, compiled, projectId, { limit: 100, offset: 0 }))!
            const methods = await checkProject(api, compiled, projectId, answer, { policy: policy.name, plan, rules: generated })
            for (const [role, method] of methods) {
              if (policy.methods && policy.methods[role] !== method) fail(`${policy.name}: ${role} answered by ${method}`, answer)
              methodsSeen.add(`${policy.name === 'random' ? 'random' : 'variant'}:${method}`)
            }
          }
          for (const user of users.slice(1, 3)) {
            await checkUser(api, compiled, user, await whatCanUserDo(api.app.db, compiled, user, { limit: 3, offset: 0 }), 3, 0, {
              policy: policy.name,
              rules: generated,
            })
          }
        }
      }),
      { numRuns: runs, seed, endOnFailure: true },
    )
    t.ok(randomCompiled >= runs / 3, `${randomCompiled} of ${runs} random rule sets passed validation and were checked`)
    t.ok(methodsSeen.has('variant:scan') && methodsSeen.has('variant:inverted'), `answered by ${[...methodsSeen].join(', ')}`)
  })
}
