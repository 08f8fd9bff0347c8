import { subject } from '@casl/ability'
import t from 'tap'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// List filters (accessibleBy → SQL) and single-object checks (ability.can in memory) must never
// disagree: for every role, every action and every seeded object, both give the same answer.

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const db = api.app.db
    const users = [await api.user('member'), await api.user('member'), await api.user('auditor'), await api.user('admin')]
    for (const owner of users) {
      for (let p = 0; p < 3; p++) {
        const project = await db.project.create({ data: { name: `p${p}`, ownerId: owner.id } })
        for (let k = 0; k < 2; k++) await db.task.create({ data: { title: `t${k}`, projectId: project.id } })
      }
    }
    const policy = api.app.policies.current
    const subjects = ['Project', 'Task', 'User'] as const

    for (const user of users) {
      const ability = policy.abilityFor(user)
      for (const type of subjects) {
        const include = policy.relationSelects.get(type)
        const delegate = (db as unknown as Record<string, { findMany(args: object): Promise<Array<Record<string, unknown>>> }>)[
          type.toLowerCase()
        ]!
        const everything = await delegate.findMany({ ...(include ? { include } : {}), orderBy: { id: 'asc' } })
        for (const action of ['read', 'update', 'delete', 'create']) {
          const inMemory = everything.filter((row) => ability.can(action, subject(type, row))).map((row) => row.id)
          // Composed the way lists compose it (with search and filters), and negated the way the
          // impact report does: nested, Prisma reads "nothing" and "everything" differently.
          const filter = policy.filterFor(ability, action, type)
          const inSql = (await delegate.findMany({ where: { AND: [filter, {}] }, select: { id: true }, orderBy: { id: 'asc' } })).map(
            (row) => row.id,
          )
          t.same(inSql, inMemory, `${user.role} ${action} ${type}: SQL and in-memory agree (${inSql.length} of ${everything.length})`)
          const outside = (await delegate.findMany({ where: { NOT: filter }, select: { id: true }, orderBy: { id: 'asc' } })).map(
            (row) => row.id,
          )
          t.same(
            outside,
            everything.map((row) => row.id).filter((id) => !inMemory.includes(id)),
            `${user.role} ${action} ${type}: the complement agrees too`,
          )
        }
      }
    }
  })
}
