import { subject as tag } from '@casl/ability'
import fc from 'fast-check'
import t from 'tap'
import { rowsFromData, runDecisionTable } from '../../src/policy/decision-table.ts'
import { compileRules, PolicyValidationError } from '../../src/policy/validate.ts'
import { toDocument, type DecisionRowData, type RoleRule } from '../../src/shared/rule-format.ts'
import { startApp, type Account, type TestApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// Property: any rule set an admin can send is either refused by validation, or, once active,
// every list and get answers without a 5xx, the lists hold exactly what single-object reads
// allow, and CASL's in-memory check agrees with the SQL filter row by row. The rule sets are
// random: every operator, text values with LIKE wildcards, empty and object-shaped AND/OR/NOT,
// nesting, inverted rules, relations and placeholders. POLICY_PROPERTY_RUNS sets how many
// (default 40).

const runs = Number(process.env.POLICY_PROPERTY_RUNS || 40)

type Where = Record<string, unknown>

const text = fc.constantFrom('a', 'al', 'abc', 'a_c', '%', 'b\\', 'A', 'ice', 'x'.repeat(3), '')
const username = fc.constantFrom('alice-abc', 'al_ce', 'bob%', '${user.username}')
const int = fc.oneof(fc.constantFrom('${user.id}'), fc.integer({ min: 0, max: 12 }))
const date = fc.constantFrom('2000-01-01T00:00:00Z', '2999-01-01T00:00:00Z', '2020-06-01T12:00:00+02:00')

/** A condition on one text field: equality, a text match (maybe case-insensitive), a list, an ordering, a negation. */
const onText = fc.oneof(
  text,
  fc.record({ equals: text }),
  fc.record({ contains: text }),
  fc.record({ startsWith: text, mode: fc.constantFrom('insensitive', 'default') }),
  fc.record({ endsWith: text }),
  fc.record({ contains: text, mode: fc.constant('insensitive'), equals: text }),
  fc.record({ in: fc.array(text, { maxLength: 3 }) }),
  fc.record({ gte: text }),
  fc.record({ not: fc.oneof(text, fc.record({ contains: text })) }),
)
const onInt = fc.oneof(
  int,
  fc.record({ equals: int }),
  fc.record({ in: fc.array(int, { maxLength: 3 }) }),
  fc.record({ notIn: fc.array(int, { maxLength: 3 }) }),
  fc.record({ lt: int }),
  fc.record({ gte: int }),
  fc.record({ not: int }),
)
const onDate = fc.oneof(fc.record({ lt: date }), fc.record({ gt: date }))

const userWhere: fc.Arbitrary<Where> = fc.oneof(
  fc.record({ id: int }),
  fc.record({ username: fc.oneof(username, fc.record({ startsWith: text })) }),
  fc.record({ role: fc.constantFrom('member', '${user.role}') }),
  fc.record({ passwordHash: fc.record({ startsWith: text }) }),
)

/** Conditions on `Project` and `Task`, nested through logic and relations up to `depth`. */
const { project, task } = fc.letrec<{ project: Where; task: Where }>((tie) => {
  const logic = (self: () => fc.Arbitrary<unknown>) => {
    const part = fc.oneof(
      fc.array(self(), { maxLength: 2 }),
      self(), // object-shaped
    )
    return fc.oneof(fc.record({ AND: part }), fc.record({ OR: part }), fc.record({ NOT: part }))
  }
  return {
    project: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ ownerId: onInt }),
      fc.record({ id: onInt }),
      fc.record({ name: onText }),
      fc.record({ createdAt: onDate }),
      fc.record({ owner: fc.record({ is: userWhere }) }),
      fc.record({ tasks: fc.oneof(fc.record({ some: tie('task') }), fc.record({ every: tie('task') }), fc.record({ none: tie('task') })) }),
      logic(() => tie('project')),
    ),
    task: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.record({ completed: fc.boolean() }),
      fc.record({ title: onText }),
      fc.record({ projectId: onInt }),
      fc.record({ project: fc.oneof(fc.record({ is: tie('project') }), fc.record({ isNot: tie('project') })) }),
      logic(() => tie('task')),
    ),
  }
})

const rule = fc.oneof(
  fc.record(
    {
      subject: fc.constant('Project'),
      action: fc.constantFrom('read', 'manage', 'update', 'delete'),
      conditions: project,
      inverted: fc.boolean(),
    },
    { requiredKeys: ['subject', 'action'] },
  ),
  fc.record(
    {
      subject: fc.constant('Task'),
      action: fc.constantFrom('read', 'manage', 'update', 'delete'),
      conditions: task,
      inverted: fc.boolean(),
    },
    { requiredKeys: ['subject', 'action'] },
  ),
)
const memberRules = fc.array(rule, { minLength: 1, maxLength: 3 })

type Delegate = { findMany(args: object): Promise<Array<Record<string, unknown>>> }

async function seed(api: TestApp): Promise<Account[]> {
  const db = api.app.db
  const members = [await api.user('member', 'alice-abc'), await api.user('member', 'al_ce'), await api.user('member', 'bob%')]
  const names = ['abc', 'a_c', 'A%B', 'x\\y']
  for (const [i, name] of names.entries()) {
    const created = await db.project.create({ data: { name, ownerId: members[i % 3]!.id } })
    for (const [k, title] of ['al_ce', 'plain'].entries()) {
      await db.task.create({ data: { title: `${title}${name}`, projectId: created.id, completed: k === 1 } })
    }
  }
  return members
}

for (const engine of engines) {
  t.test(`${runs} random member rule sets on ${engine}: refused, or served without 5xx with SQL and memory agreeing`, async (t) => {
    const api = await startApp(t, engine)
    const admin = await api.user('admin')
    const users = await seed(api)
    const db = api.app.db
    const { rules: base, table: baseTable } = (await api.request({ url: '/api/admin/policies', as: admin })).json<{
      rules: RoleRule[]
      table: DecisionRowData[]
    }>()
    let run = 0
    const counts = { refused: 0, activated: 0 }

    const fail = (what: string, detail: unknown) => {
      throw new Error(`${what}: ${JSON.stringify(detail).slice(0, 600)}`)
    }

    await fc.assert(
      fc.asyncProperty(memberRules, async (generated) => {
        const rules: RoleRule[] = [
          ...base.filter((r) => r.role !== 'member'),
          // As the API receives them: parsed JSON (fast-check builds objects without a prototype).
          ...(JSON.parse(JSON.stringify(generated)) as typeof generated).map((r, i) => ({ ...r, id: `gen.${i}`, role: 'member' })),
        ]
        // The full review (impact on live data included) is slow; every fifth set goes through it.
        if (run++ % 5 === 0) {
          const validated = await api.request({ method: 'POST', url: '/api/admin/policies/validate', as: admin, payload: { rules } })
          if (validated.statusCode !== 200) fail(`validate answered ${validated.statusCode}`, { rules: generated, body: validated.json() })
        }
        // The table these rules pass, as somebody who accepts their outcome would write it,
        // from the same evaluator the API runs.
        let table: DecisionRowData[] | undefined
        try {
          const compiled = compileRules(toDocument(rules), 0)
          table = runDecisionTable(compiled, rowsFromData(baseTable)).map(({ row, allowed, status }) => ({
            role: row.role,
            action: row.action,
            subject: row.subject,
            resource: row.resource,
            expect: allowed ? 'allow' : 'deny',
            status,
          }))
        } catch (error) {
          if (!(error instanceof PolicyValidationError)) throw error
        }
        const version = (await api.request({ url: '/api/admin/policies', as: admin })).headers.etag as string
        const put = await api.request({
          method: 'PUT',
          url: '/api/admin/policies',
          as: admin,
          headers: { 'if-match': version },
          payload: { rules, table: table ?? baseTable },
        })
        if (!table) {
          if (put.statusCode !== 400) fail(`PUT of rules validation refuses answered ${put.statusCode}`, generated)
          counts.refused++
          return
        }
        if (put.statusCode !== 200) fail(`PUT answered ${put.statusCode}`, { rules: generated, body: put.json() })
        counts.activated++

        const policy = api.app.policies.current
        // Two of the three members: the third owns projects the others may or may not see.
        for (const user of users.slice(0, 2)) {
          const ability = policy.abilityFor(user)
          for (const [type, path] of [
            ['Project', 'projects'],
            ['Task', 'tasks'],
          ] as const) {
            const list = await api.request({ url: `/api/${path}?limit=100`, as: user })
            if (list.statusCode >= 500 || ![200, 403].includes(list.statusCode))
              fail(`GET /api/${path} answered ${list.statusCode}`, generated)
            const listed = list.statusCode === 200 ? list.json<{ items: Array<{ id: number }> }>().items.map((row) => row.id) : []
            const delegate = (db as unknown as Record<string, Delegate>)[type.toLowerCase()]!
            const include = policy.relationSelects.get(type)
            const everything = await delegate.findMany({ ...(include ? { include } : {}), orderBy: { id: 'asc' } })
            const readable: number[] = []
            for (const row of user === users[run % 2] ? everything : []) {
              const got = await api.request({ url: `/api/${path}/${String(row.id)}`, as: user })
              if (![200, 403, 404].includes(got.statusCode))
                fail(`GET /api/${path}/${String(row.id)} answered ${got.statusCode}`, generated)
              if (got.statusCode === 200) readable.push(row.id as number)
            }
            if (user === users[run % 2] && list.statusCode === 200 && JSON.stringify(listed) !== JSON.stringify(readable)) {
              fail(
                `${user.username}: the list of ${path} ${JSON.stringify(listed)} ≠ the objects a GET returns ${JSON.stringify(readable)}`,
                generated,
              )
            }
            for (const action of ['read', 'update', 'delete']) {
              if (!ability.can(action, type)) continue
              const inMemory = everything.filter((row) => ability.can(action, tag(type, row))).map((row) => row.id)
              const filter = policy.filterFor(ability, action, type)
              const inSql = (await delegate.findMany({ where: { AND: [filter, {}] }, select: { id: true }, orderBy: { id: 'asc' } })).map(
                (row) => row.id,
              )
              if (JSON.stringify(inSql) !== JSON.stringify(inMemory)) {
                fail(`${user.username} ${action} ${type}: SQL ${JSON.stringify(inSql)} ≠ in memory ${JSON.stringify(inMemory)}`, generated)
              }
            }
          }
        }
      }),
      { numRuns: runs, endOnFailure: true },
    )
    t.equal(counts.refused + counts.activated, runs, `${counts.activated} rule sets activated and served, ${counts.refused} refused`)
    t.ok(counts.activated >= runs / 5, 'enough rule sets pass validation for the property to say something')
  })
}
