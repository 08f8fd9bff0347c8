import { subject } from '@casl/ability'
import t, { type Test } from 'tap'
import { Authorizer, DeniedError } from '../../src/authz/authorizer.ts'
import type { CompiledRules } from '../../src/authz/compiled-rules.ts'
import type { PrismaClient } from '../../src/generated/prisma/client.ts'
import { compileRules } from '../../src/policy/validate.ts'
import type { RawRule } from '../../src/shared/rule-format.ts'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// List filters (accessibleBy → SQL) and single-object checks (ability.can in memory, on the row
// loaded with what the rules read, as the authorizer loads it) must never disagree: for every
// role, every action and every seeded object, both give the same answer. The world has shared
// projects (editors, viewers, both), projects shared with nobody, and users with no membership.
//
// Besides the active policy, policies written for the cases where CASL's in-memory check and
// Prisma's SQL are known to have disagreed: `every` on an empty relation (vacuously true in SQL),
// `none`, relations nested in relations, and inverted rules before and after the allow they
// restrict (a later rule takes precedence over an earlier one). And the decision on a new object,
// which exists only in memory, equals what SQL says of the row once it is written.

type Row = Record<string, unknown> & { id: number }
interface Delegate {
  findMany(args: object): Promise<Row[]>
  create(args: object): Promise<Row>
  count(args: object): Promise<number>
}
const delegate = (db: PrismaClient, type: string) => (db as unknown as Record<string, Delegate>)[type[0]!.toLowerCase() + type.slice(1)]!

interface SeedUser {
  id: number
  username: string
  role: string
}

const ACTIONS = ['read', 'update', 'delete', 'create'] as const
const me = '${user.id}'

/** Member rules written for one disagreement case each, and what they must allow (besides agreeing). */
interface Variant {
  name: string
  rules: RawRule[]
  /** `user action Subject` → the names of the projects whose rows (the project, its tasks, its memberships) are allowed. */
  expect?: Record<string, string[]>
}

const variants: Variant[] = [
  {
    name: '`every` on an empty relation is true, in SQL and in memory',
    rules: [
      { id: 'v.only-editors', action: ['read', 'update'], subject: 'Project', conditions: { members: { every: { role: 'editor' } } } },
      { id: 'v.tasks', action: 'read', subject: 'Task', conditions: { project: { is: { members: { every: { role: 'editor' } } } } } },
      { id: 'v.only-me', action: 'update', subject: 'Task', conditions: { project: { is: { members: { every: { userId: me } } } } } },
      {
        id: 'v.members',
        action: 'read',
        subject: 'ProjectMember',
        conditions: { project: { is: { members: { every: { role: 'editor' } } } } },
      },
      { id: 'v.not-every', action: 'delete', subject: 'Project', conditions: { NOT: { members: { every: { role: 'viewer' } } } } },
    ],
    expect: {
      'ivy read Project': ['ann-editors', 'ann-alone', 'bob-alone', 'cat-alone', 'eve-alone', 'adm-alone'],
      'ivy read Task': ['ann-editors', 'ann-alone', 'bob-alone', 'cat-alone', 'eve-alone', 'adm-alone'],
      'ivy read ProjectMember': ['ann-editors'],
      'ivy update Task': ['ann-alone', 'bob-alone', 'cat-alone', 'eve-alone', 'adm-alone'],
      'dan update Task': ['ann-editors', 'ann-alone', 'bob-alone', 'cat-alone', 'eve-alone', 'adm-alone'],
      'ivy delete Project': ['ann-shared', 'ann-editors'],
    },
  },
  {
    name: '`none`, on the subject and through its parent',
    rules: [
      { id: 'v.not-shared-with-me', action: 'read', subject: 'Project', conditions: { members: { none: { userId: me } } } },
      {
        id: 'v.no-viewers',
        action: ['read', 'update'],
        subject: 'Task',
        conditions: { project: { is: { members: { none: { role: 'viewer' } } } } },
      },
      {
        id: 'v.no-editors',
        action: ['read', 'delete'],
        subject: 'ProjectMember',
        conditions: { project: { is: { members: { none: { role: 'editor' } } } } },
      },
    ],
    expect: {
      'cat read Project': ['ann-editors', 'ann-alone', 'bob-alone', 'cat-alone', 'eve-alone', 'aud-shared', 'adm-alone'],
      'ivy update Task': ['ann-editors', 'ann-alone', 'bob-alone', 'cat-alone', 'eve-alone', 'adm-alone'],
      'ivy delete ProjectMember': ['bob-viewers', 'aud-shared'],
    },
  },
  {
    name: 'relations nested in relations: project.is.members.some and deeper',
    rules: [
      {
        id: 'v.own-or-shared',
        action: 'read',
        subject: 'Project',
        conditions: { OR: [{ ownerId: me }, { members: { some: { userId: me } } }] },
      },
      {
        id: 'v.viewing',
        action: 'read',
        subject: 'Task',
        conditions: { project: { is: { members: { some: { userId: me, role: 'viewer' } } } } },
      },
      {
        id: 'v.editing',
        action: ['update', 'delete'],
        subject: 'Task',
        conditions: { project: { is: { members: { some: { AND: [{ userId: me }, { NOT: { role: 'viewer' } }] } } } } },
      },
      {
        id: 'v.owner-edits-elsewhere',
        action: 'read',
        subject: 'ProjectMember',
        conditions: { project: { is: { owner: { is: { memberships: { some: { role: 'editor' } } } } } } },
      },
      {
        id: 'v.shared-with-outsiders',
        action: 'update',
        subject: 'Project',
        conditions: { members: { some: { user: { is: { projects: { none: { name: { startsWith: 'ann' } } } } } } } },
      },
    ],
    expect: {
      'cat read Project': ['ann-shared', 'bob-viewers', 'cat-alone'],
      'cat read Task': ['ann-shared', 'bob-viewers'],
      'dan update Task': ['ann-editors'],
      'ivy read ProjectMember': ['bob-viewers'],
      'ivy update Project': ['ann-shared', 'ann-editors', 'bob-viewers'],
    },
  },
  {
    name: 'an inverted rule after the allows it restricts',
    rules: [
      { id: 'v.own-projects', action: 'read', subject: 'Project', conditions: { ownerId: me } },
      { id: 'v.own-tasks', action: 'manage', subject: 'Task', conditions: { project: { is: { ownerId: me } } } },
      { id: 'v.shared-tasks', action: 'manage', subject: 'Task', conditions: { project: { is: { members: { some: { userId: me } } } } } },
      {
        id: 'v.viewers-do-not-edit',
        action: 'update',
        subject: 'Task',
        inverted: true,
        conditions: { project: { is: { members: { some: { userId: me, role: 'viewer' } } } } },
      },
      {
        id: 'v.nothing-deleted-under-viewers',
        action: 'delete',
        subject: 'Task',
        inverted: true,
        conditions: { project: { is: { members: { some: { role: 'viewer' } } } } },
      },
      { id: 'v.members', action: ['read', 'delete'], subject: 'ProjectMember', conditions: { project: { is: { ownerId: me } } } },
      { id: 'v.viewers-hidden', action: 'read', subject: 'ProjectMember', inverted: true, conditions: { role: 'viewer' } },
    ],
    expect: {
      'ann update Task': ['ann-shared', 'ann-editors', 'ann-alone'],
      'ann delete Task': ['ann-editors', 'ann-alone'],
      'cat update Task': ['cat-alone'],
      'cat read Task': ['ann-shared', 'bob-viewers', 'cat-alone'],
      'bob update Task': ['ann-shared', 'bob-viewers', 'bob-alone'],
      'bob delete Task': ['bob-alone'],
      'ann read ProjectMember': ['ann-shared', 'ann-editors'],
      'ann delete ProjectMember': ['ann-shared', 'ann-editors'],
    },
  },
  {
    name: 'an inverted rule before an allow: the later allow wins where it matches',
    rules: [
      { id: 'v.read-tasks', action: 'read', subject: 'Task' },
      { id: 'v.shared-tasks', action: 'update', subject: 'Task', conditions: { project: { is: { members: { some: { userId: me } } } } } },
      {
        id: 'v.none-under-viewers',
        action: ['update', 'delete'],
        subject: 'Task',
        inverted: true,
        conditions: { project: { is: { members: { some: { role: 'viewer' } } } } },
      },
      { id: 'v.own-tasks', action: 'update', subject: 'Task', conditions: { project: { is: { ownerId: me } } } },
      { id: 'v.no-deletes', action: 'delete', subject: 'Task', inverted: true },
      { id: 'v.own-deletes', action: 'delete', subject: 'Task', conditions: { project: { is: { ownerId: me } } } },
    ],
    expect: {
      'ann update Task': ['ann-shared', 'ann-editors', 'ann-alone'],
      'bob update Task': ['bob-viewers', 'bob-alone'],
      'dan update Task': ['ann-editors'],
      'bob delete Task': ['bob-viewers', 'bob-alone'],
    },
  },
  {
    name: 'inverted `every` and `none` after an unconditional allow',
    rules: [
      { id: 'v.all-projects', action: 'read', subject: 'Project' },
      {
        id: 'v.not-viewer-only',
        action: 'read',
        subject: 'Project',
        inverted: true,
        conditions: { members: { every: { role: 'viewer' } } },
      },
      { id: 'v.all-tasks', action: ['read', 'update'], subject: 'Task' },
      {
        id: 'v.only-shared',
        action: 'update',
        subject: 'Task',
        inverted: true,
        conditions: { project: { is: { members: { none: { userId: me } } } } },
      },
      { id: 'v.all-members', action: ['read', 'delete'], subject: 'ProjectMember' },
      {
        id: 'v.not-alone',
        action: 'delete',
        subject: 'ProjectMember',
        inverted: true,
        conditions: { project: { is: { members: { every: { userId: me } } } } },
      },
    ],
    expect: {
      'ivy read Project': ['ann-shared', 'ann-editors'],
      'ivy update Task': [],
      'dan update Task': ['ann-editors', 'bob-viewers'],
      'dan delete ProjectMember': ['ann-shared', 'bob-viewers', 'aud-shared'],
    },
  },
]

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const db = api.app.db
    const users = new Map<string, SeedUser>()
    for (const [name, role] of [
      ['ann', 'member'],
      ['bob', 'member'],
      ['cat', 'member'],
      ['dan', 'member'], // memberships only
      ['eve', 'member'], // a project shared with nobody
      ['ivy', 'member'], // nothing at all
      ['aud', 'auditor'],
      ['adm', 'admin'],
    ] as const) {
      users.set(name, await api.user(role, `${name}_${engine}`))
    }
    const user = (name: string) => users.get(name)!
    // project name → [owner, { member: role }]
    const world: Record<string, [string, Record<string, 'viewer' | 'editor'>]> = {
      'ann-shared': ['ann', { bob: 'editor', cat: 'viewer' }],
      'ann-editors': ['ann', { dan: 'editor' }],
      'ann-alone': ['ann', {}],
      'bob-viewers': ['bob', { cat: 'viewer', dan: 'viewer' }],
      'bob-alone': ['bob', {}],
      'cat-alone': ['cat', {}],
      'eve-alone': ['eve', {}],
      'aud-shared': ['aud', { ann: 'viewer' }],
      'adm-alone': ['adm', {}],
    }
    /** Row id → the name of the project it belongs to, per subject. */
    const projectNameOf = { Project: new Map<number, string>(), Task: new Map<number, string>(), ProjectMember: new Map<number, string>() }
    for (const [name, [owner, members]] of Object.entries(world)) {
      const project = await db.project.create({ data: { name, ownerId: user(owner).id } })
      projectNameOf.Project.set(project.id, name)
      for (const title of ['t0', 't1']) {
        projectNameOf.Task.set((await db.task.create({ data: { title, projectId: project.id } })).id, name)
      }
      for (const [member, role] of Object.entries(members)) {
        projectNameOf.ProjectMember.set(
          (await db.projectMember.create({ data: { projectId: project.id, userId: user(member).id, role } })).id,
          name,
        )
      }
    }
    t.equal(await db.projectMember.count(), 6, 'memberships seeded')

    t.test('the active policy, every role', async (t) => {
      await checkAgreement(t, db, api.app.policies.current, [...users.values()], ['Project', 'Task', 'ProjectMember', 'User'], {
        singleReads: true,
      })
    })

    for (const variant of variants) {
      t.test(variant.name, async (t) => {
        const policy = compileRules({ member: variant.rules }, 1)
        const members = [...users.values()].filter((u) => u.role === 'member')
        const allowed = await checkAgreement(t, db, policy, members, ['Project', 'Task', 'ProjectMember'])
        for (const [key, projects] of Object.entries(variant.expect ?? {})) {
          const [name, action, type] = key.split(' ') as [string, string, keyof typeof projectNameOf]
          const got = [...new Set(allowed.get(`${user(name).id} ${action} ${type}`)!.map((id) => projectNameOf[type].get(id)!))]
          t.same(got.sort(), [...projects].sort(), `${key}: as intended`)
        }
      })
    }

    t.test('creating: the decision on a new object is what SQL says of the row once it exists', async (t) => {
      /**
       * Whether the authorizer lets `creator` create `data` (the write is rolled back), and
       * whether the policy's SQL filter holds the row once written (in a transaction rolled back).
       */
      async function both(
        policy: CompiledRules,
        creator: SeedUser,
        type: 'Project' | 'Task' | 'ProjectMember',
        data: Record<string, unknown>,
        server: string[] = [],
      ) {
        const ability = policy.abilityFor(creator)
        const rollback = new Error('rolled back')
        const decided = await allowedBy(
          new Authorizer(ability, policy, creator, db).create(type, data as never, {
            clientFields: Object.keys(data).filter((field) => !server.includes(field)),
            before: () => Promise.reject(rollback),
          }),
          rollback,
        )
        let inSql = false
        await db
          .$transaction(async (tx) => {
            const table = delegate(tx as unknown as PrismaClient, type)
            const row = await table.create({ data })
            inSql = (await table.count({ where: { AND: [{ id: row.id }, policy.filterFor(ability, 'create', type)] } })) === 1
            throw rollback
          })
          .catch((error: unknown) => {
            if (error !== rollback) throw error
          })
        return { decided, inSql }
      }
      const counts = () => Promise.all([db.project.count(), db.task.count(), db.projectMember.count()])
      const before = await counts()

      // A new object has nothing related yet: `every` and `none` over its lists hold, `some` does not.
      const ann = user('ann')
      for (const [conditions, expected] of [
        [{ members: { every: { role: 'editor' } } }, true],
        [{ tasks: { every: { completed: true } } }, true],
        [{ members: { none: { userId: me } } }, true],
        [{ NOT: { members: { some: { role: 'viewer' } } } }, true],
        [{ members: { some: { userId: me } } }, false],
        [{ NOT: { tasks: { every: { completed: false } } } }, false],
      ] as const) {
        const policy = compileRules({ member: [{ id: 'c.create', action: 'create', subject: 'Project', conditions }] }, 1)
        const got = await both(policy, ann, 'Project', { name: 'new', ownerId: ann.id }, ['ownerId'])
        t.same(got, { decided: expected, inSql: expected }, `${JSON.stringify(conditions)} on a new project`)
      }

      // Every relation the rules read is loaded: the parent named in the body, a second one (a
      // membership's user beside its project), one the server names (a project's owner). One left
      // out would read as missing: false under \`is\`, true under \`isNot\`.
      const policy = compileRules(
        {
          member: [
            {
              id: 'c.tasks',
              action: 'create',
              subject: 'Task',
              conditions: { project: { is: { members: { every: { role: 'editor' } } } } },
            },
            {
              id: 'c.share-but-not-with-auditors',
              action: 'create',
              subject: 'ProjectMember',
              conditions: { project: { is: { ownerId: me } }, user: { isNot: { role: 'auditor' } } },
            },
            {
              id: 'c.editors-start-projects',
              action: 'create',
              subject: 'Project',
              conditions: { ownerId: me, owner: { is: { memberships: { some: { role: 'editor' } } } } },
            },
            {
              id: 'c.but-not-viewers',
              action: 'create',
              subject: 'Project',
              inverted: true,
              conditions: { owner: { isNot: { role: 'member' } } },
            },
          ],
        },
        1,
      )
      const expected = { Task: [] as string[], ProjectMember: [] as string[], Project: [] as string[] }
      for (const [id, name] of projectNameOf.Project) {
        const got = await both(policy, ann, 'Task', { projectId: id, title: 'new' })
        t.equal(got.decided, got.inSql, `a task in ${name}`)
        if (got.decided) expected.Task.push(name)
      }
      const alone = [...projectNameOf.Project].find(([, name]) => name === 'ann-alone')![0]
      for (const [name, other] of users) {
        const got = await both(policy, ann, 'ProjectMember', { projectId: alone, userId: other.id, role: 'viewer' })
        t.equal(got.decided, got.inSql, `ann-alone shared with ${name}`)
        if (got.decided) expected.ProjectMember.push(name)
        if (other.role !== 'member') continue
        const project = await both(policy, other, 'Project', { name: 'new', ownerId: other.id }, ['ownerId'])
        t.equal(project.decided, project.inSql, `a project by ${name}`)
        if (project.decided) expected.Project.push(name)
      }
      t.same(expected, {
        Task: ['ann-editors', 'ann-alone', 'bob-alone', 'cat-alone', 'eve-alone', 'adm-alone'],
        ProjectMember: ['ann', 'bob', 'cat', 'dan', 'eve', 'ivy', 'adm'],
        Project: ['bob', 'dan'],
      })
      t.same(await counts(), before, 'nothing was written')
    })
  })
}

/**
 * For each user, subject and action: SQL (the list filter, composed and negated) and memory
 * (ability.can on each row as loaded with `policy.relationSelects`) allow the same rows, and
 * lists through the authorizer hold exactly those rows. With `singleReads`, every row is also
 * asked for through `Authorizer.findOne`, as routes ask. Returns the allowed ids by
 * `userId action Subject`.
 */
async function checkAgreement(
  t: Test,
  db: PrismaClient,
  policy: CompiledRules,
  users: SeedUser[],
  subjects: string[],
  options: { singleReads?: boolean } = {},
): Promise<Map<string, number[]>> {
  const allowed = new Map<string, number[]>()
  for (const type of subjects) {
    const table = delegate(db, type)
    const include = policy.relationSelects.get(type)
    const everything = await table.findMany({ ...(include ? { include } : {}), orderBy: { id: 'asc' } })
    const ids = everything.map((row) => row.id)
    for (const user of users) {
      const ability = policy.abilityFor(user)
      const authz = new Authorizer(ability, policy, user, db)
      const who = `${user.role} ${user.username}`
      for (const action of ACTIONS) {
        const inMemory = everything.filter((row) => ability.can(action, subject(type, row))).map((row) => row.id)
        allowed.set(`${user.id} ${action} ${type}`, inMemory)
        // Composed the way lists compose it (with search and filters), and negated the way the
        // impact report does: nested, Prisma reads "nothing" and "everything" differently.
        const filter = policy.filterFor(ability, action, type)
        const inSql = (await table.findMany({ where: { AND: [filter, {}] }, select: { id: true }, orderBy: { id: 'asc' } })).map(
          (row) => row.id,
        )
        t.same(inSql, inMemory, `${who} ${action} ${type}: SQL and in-memory agree (${inSql.length} of ${ids.length})`)
        const outside = (await table.findMany({ where: { NOT: filter }, select: { id: true }, orderBy: { id: 'asc' } })).map(
          (row) => row.id,
        )
        t.same(
          outside,
          ids.filter((id) => !inMemory.includes(id)),
          `${who} ${action} ${type}: the complement agrees too`,
        )
        if (action === 'read') {
          // The list as routes list it: keyed per side of an owned-or-shared filter, or by offset.
          const page = await authz
            .list(type as never, { limit: ids.length + 1, offset: 0, ordering: 'id' }, { toItem: (row: { id: number }) => row.id })
            .catch((error: unknown) => {
              if (error instanceof DeniedError) return { items: [], total: 0 }
              throw error
            })
          t.same(
            { ids: page.items, total: page.total },
            { ids: inMemory, total: inMemory.length },
            `${who} list ${type}: the authorizer's list holds the same rows`,
          )
        }
        if (options.singleReads) {
          const readable = allowed.get(`${user.id} read ${type}`)!
          const found: number[] = []
          for (const id of ids) {
            if (await allowedBy(authz.findOne(type as never, id, action))) found.push(id)
          }
          t.same(
            found,
            inMemory.filter((id) => readable.includes(id)),
            `${who} ${action} ${type}: one object at a time, as routes load it, the same rows`,
          )
        }
      }
    }
  }
  return allowed
}

/** Whether the authorizer allowed: it answered (or threw `allowed`, to roll back), or refused with `DeniedError`. */
async function allowedBy(call: Promise<unknown>, allowed?: Error): Promise<boolean> {
  try {
    await call
    return true
  } catch (error) {
    if (error === allowed) return true
    if (error instanceof DeniedError) return false
    throw error
  }
}
