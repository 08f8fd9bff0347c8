import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { CompiledRules } from '../../src/authz/compiled-rules.ts'
import { loadConfig } from '../../src/config.ts'
import { evaluateRow, rowsFromData } from '../../src/policy/decision-table.ts'
import { DECISION_TABLE_FILE } from '../../src/policy/files.ts'
import { compileRules } from '../../src/policy/validate.ts'
import { toDocument, type RoleRule } from '../../src/shared/rule-format.ts'
import { assertProblem, startApp, TEST_SECRET, type Account, type TestApp } from '../helpers/app.ts'
import { validationErrors } from '../helpers/rules.ts'
import { createTestDatabase, engines } from '../helpers/databases.ts'

// No accepted policy can read a secret or break the API: one validation (validate, PUT, import,
// rollback, startup) refuses what SQL and the in-memory check would read differently, what
// Prisma refuses, and what is too big; the decision-table evaluator answers for any rule.

type Rule = RoleRule

function nested(depth: number): Record<string, unknown> {
  let where: Record<string, unknown> = { completed: true }
  for (let i = 0; i < depth; i++) where = { NOT: where }
  return where
}

const task = (conditions: object) => ({ id: 'r', action: 'read', subject: 'Task', conditions })
const project = (conditions: object) => ({ id: 'r', action: 'read', subject: 'Project', conditions })

t.test('refused: secrets, shapes SQL and memory read differently, shapes Prisma refuses, oversized conditions', async (t) => {
  const cases: Array<[string, object, RegExp]> = [
    [
      'secret through a relation',
      project({ owner: { is: { passwordHash: { startsWith: '$' } } } }),
      /"passwordHash" is a secret field of User/,
    ],
    ['secret compared', project({ owner: { is: { passwordHash: { gte: 'a' } } } }), /"passwordHash" is a secret field/],
    ['secret on the subject', { id: 'r', action: 'read', subject: 'User', conditions: { passwordHash: 'x' } }, /secret field/],
    ['secret inside NOT', { id: 'r', action: 'read', subject: 'User', conditions: { NOT: [{ passwordHash: 'x' }] } }, /secret field/],
    [
      'secret in fields',
      { id: 'r', action: 'update', subject: 'User', fields: ['passwordHash'] },
      /secret field of User: rules may not name it/,
    ],
    ['secret by pattern', { id: 'r', action: 'update', subject: 'User', fields: ['password*'] }, /covers the secret field "passwordHash"/],
    ['OR as an object', task({ OR: { completed: true } }), /OR must be a list of conditions/],
    ['empty OR', task({ OR: [] }), /OR needs at least one condition/],
    ['empty AND', task({ AND: [] }), /AND needs at least one condition/],
    ['empty NOT list', task({ NOT: [] }), /NOT needs at least one condition/],
    ['LIKE wildcard _', project({ name: { contains: 'a_c' } }), /cannot match %, _ or \\/],
    ['LIKE wildcard %', project({ name: { startsWith: '%' } }), /cannot match %, _ or \\/],
    ['LIKE escape', project({ name: { endsWith: 'a\\' } }), /cannot match %, _ or \\/],
    ['mode beside equals', project({ name: { contains: 'a', equals: 'A', mode: 'insensitive' } }), /mode cannot be combined/],
    ['text ordering', project({ name: { gte: 'm' } }), /cannot compare text/],
    ['nested 200 deep', task(nested(200)), /nest deeper than 10 levels/],
    ['nested 11 deep', task(nested(10)), /nest deeper than 10 levels/],
    ['too many parts', task({ id: { in: Array.from({ length: 201 }, (_, i) => i) } }), /more than 200 parts/],
    ['long string', project({ name: 'x'.repeat(1001) }), /longer than 1000 characters/],
    ['NUL in a value', project({ name: 'a\u0000b' }), /NUL character/],
    ['NUL in a name', project({ 'na\u0000me': 'a' }), /NUL character/],
    ['NUL in a reason', { id: 'r', action: 'read', subject: 'Project', reason: 'why\u0000' }, /NUL character/],
    ['NUL in a field pattern', { id: 'r', action: 'update', subject: 'Project', fields: ['na*\u0000'] }, /NUL character/],
  ]
  for (const [name, rule, message] of cases) {
    const errors = validationErrors([rule])
    t.ok(errors.length > 0, `${name}: refused`)
    t.match(errors[0], { role: 'member', ruleId: 'r', message }, name)
  }
  t.same(validationErrors([task(nested(8))]), [], 'nesting within the limit is accepted')
  t.same(validationErrors([task({ AND: { completed: true }, NOT: { title: 'x' } })]), [], 'AND and NOT as one object are accepted')
  t.same(validationErrors([{ id: 'r', action: 'update', subject: 'User', fields: ['*'] }]), [], 'a bare wildcard names no field')
  t.match(validationErrors([{ id: 'r', action: 'read', subject: 'Project' }], 'constructor'), [{ message: /unknown role "constructor"/ }])
})

t.test('the decision-table evaluator answers for any rule: an unevaluable one fails its row', async (t) => {
  // Compiled without validation, as a version accepted before these checks were made.
  const rules = { member: [{ id: 'oracle', action: 'read', subject: 'User', conditions: { passwordHash: { contains: 'a' } } }] }
  const compiled = new CompiledRules(rules, 2)
  const [row] = rowsFromData([{ role: 'member', action: 'read', subject: 'User', resource: 'own', expect: 'deny', status: 404 }])
  const result = evaluateRow(compiled, row!)
  t.match(result, { pass: false, allowed: false, status: 500, error: /cannot be evaluated/ })
  t.throws(() => rowsFromData([]), /the decision table has no rows/)
})

t.test('a date condition in a role whose rules name the user is evaluated, not turned into {}', async (t) => {
  const { subject } = await import('@casl/ability')
  const policy = compileRules(
    {
      member: [
        { id: 'own', action: 'read', subject: 'Project', conditions: { ownerId: '${user.id}' } },
        // Later rules take precedence: the inverted one below restricts this one.
        { id: 'del', action: 'delete', subject: 'Project' },
        { id: 'old', action: 'delete', subject: 'Project', inverted: true, conditions: { createdAt: { lt: '2020-06-01T12:00:00+02:00' } } },
      ],
    },
    1,
  )
  const ability = policy.abilityFor({ id: 3, username: 'u', role: 'member' })
  t.notOk(ability.can('delete', subject('Project', { ownerId: 3, createdAt: new Date('2019-01-01T00:00:00Z') } as never)))
  t.ok(ability.can('delete', subject('Project', { ownerId: 3, createdAt: new Date('2021-01-01T00:00:00Z') } as never)))
})

t.test('a server whose policies/ read a secret refuses to start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'policies-'))
  copyFileSync(join(import.meta.dirname, '../../policies', DECISION_TABLE_FILE), join(dir, DECISION_TABLE_FILE))
  const rule = { id: 'leak', action: 'read', subject: 'Project', conditions: { owner: { is: { passwordHash: { startsWith: 'a' } } } } }
  writeFileSync(join(dir, 'rules.json'), JSON.stringify({ member: [rule] }))
  const database = await createTestDatabase('pglite')
  t.teardown(() => database.drop())
  await t.rejects(
    (async () => {
      const app = await buildApp(
        { ...loadConfig({ JWT_SECRET: TEST_SECRET }), policiesDir: dir },
        { driver: database.driver, logger: false },
      )
      await app.close()
    })(),
    /member rule "leak" conditions\/owner\/is\/passwordHash: "passwordHash" is a secret field/,
  )
})

async function active(api: TestApp, admin: Account) {
  const res = await api.request({ url: '/api/admin/policies', as: admin })
  return res.json<{ version: number; rules: Rule[]; table: object[] }>()
}

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const admin = await api.user('admin')
    const member = await api.user('member')
    const memberRules = (rules: Rule[], extra: Partial<Rule>): Rule[] => [
      ...rules,
      { id: 'extra', role: 'member', action: 'read', subject: 'Task', ...extra },
    ]
    const put = async (rules: Rule[], table?: object[]) => {
      const { version } = await active(api, admin)
      return api.request({
        method: 'PUT',
        url: '/api/admin/policies',
        as: admin,
        headers: { 'if-match': `"${version}"` },
        payload: { rules, ...(table ? { table } : {}) },
      })
    }
    const validate = (payload: object) => api.request({ method: 'POST', url: '/api/admin/policies/validate', as: admin, payload })

    t.test('validate and PUT refuse each hole with the place named; nothing is activated', async (t) => {
      const { rules, version } = await active(api, admin)
      const holes: Array<[string, Partial<Rule>, RegExp]> = [
        ['a secret', { subject: 'Project', conditions: { owner: { is: { passwordHash: { startsWith: '$' } } } } }, /passwordHash/],
        ['OR as an object', { conditions: { OR: { completed: true } } }, /OR must be a list/],
        ['NOT 200 deep', { conditions: nested(200) }, /nest deeper/],
        ['a LIKE wildcard', { subject: 'Project', conditions: { name: { contains: 'a_c' } } }, /wildcards/],
        ['an empty NOT', { conditions: { NOT: [] } }, /NOT needs at least one condition/],
        ['NUL in a value', { conditions: { title: 'a\u0000' } }, /NUL/],
      ]
      for (const [name, extra, message] of holes) {
        const proposed = memberRules(rules, extra)
        const report = await validate({ rules: proposed })
        t.equal(report.statusCode, 200, `${name}: validate answers`)
        t.match(report.json(), { valid: false, errors: [{ ruleId: 'extra', message }] }, `${name}: validate refuses`)
        const body = assertProblem(t, await put(proposed), 400, 'policy-invalid')
        t.match(body.errors, [{ ruleId: 'extra', message }], `${name}: PUT refuses`)
      }
      t.equal((await active(api, admin)).version, version, 'nothing activated')
    })

    t.test('rollback works from a version the evaluator cannot evaluate', async (t) => {
      const before = await active(api, admin)
      // Such a version was accepted before validation knew about secrets: activate it as it was.
      const bad = memberRules(before.rules, { subject: 'User', conditions: { passwordHash: { contains: 'a' } } })
      await api.app.policies.activate(
        { rules: bad, table: before.table as never, compiled: new CompiledRules(toDocument(bad), before.version + 1) },
        before.version,
        { id: admin.id, username: admin.username },
        'accepted before',
        async () => {},
      )
      const res = await api.request({
        method: 'POST',
        url: '/api/admin/policies/rollback',
        as: admin,
        payload: { version: before.version },
      })
      t.equal(res.statusCode, 200, res.body.slice(0, 300))
      t.equal((await active(api, admin)).version, before.version + 2)
    })

    t.test('a rule for role "constructor" and an empty table are refused, not a 500', async (t) => {
      const { rules } = await active(api, admin)
      const odd = [...rules, { id: 'odd', role: 'constructor', action: 'read', subject: 'Project' } as Rule]
      t.match((await validate({ rules: odd })).json(), { valid: false, errors: [{ role: 'constructor', message: /unknown role/ }] })
      assertProblem(t, await put(odd), 400, 'policy-invalid')
      const oddRow = { role: 'constructor', action: 'read', subject: 'Project', resource: 'own', expect: 'deny', status: 403 }
      const withOddRow = await validate({ rules, table: [...(await active(api, admin)).table, oddRow] })
      t.equal(withOddRow.statusCode, 200, 'a table row for role "constructor" is evaluated')
      t.match(withOddRow.json(), { valid: true, table: { failed: 0 } })
      t.match((await validate({ rules, table: [] })).json(), { valid: false, errors: [{ path: 'table', message: /no rows/ }] })
      const table = (await active(api, admin)).table as Array<Record<string, unknown>>
      const noted = [{ ...table[0], note: 'a\u0000b' }, ...table.slice(1)]
      t.match((await validate({ rules, table: noted })).json(), { valid: false, errors: [{ path: 'table', message: /NUL/ }] })
      assertProblem(t, await put(rules, noted), 400, 'policy-invalid')
      const { version } = await active(api, admin)
      const withMessage = { method: 'PUT' as const, url: '/api/admin/policies', as: admin, headers: { 'if-match': `"${version}"` } }
      assertProblem(t, await api.request({ ...withMessage, payload: { rules, message: 'why\u0000' } }), 400)
      const rollback = { method: 'POST' as const, url: '/api/admin/policies/rollback', as: admin }
      assertProblem(t, await api.request({ ...rollback, payload: { version: 1, message: 'why\u0000' } }), 400)
      assertProblem(t, await put(rules, []), 400, 'policy-invalid')
    })

    t.test('a user row is never loaded with its password hash for a decision', async (t) => {
      const queries: string[] = []
      const original = api.app.db.user.findUnique.bind(api.app.db.user)
      api.app.db.user.findUnique = ((args: object) => {
        queries.push(JSON.stringify(args))
        return original(args as never)
      }) as never
      t.teardown(() => {
        api.app.db.user.findUnique = original
      })
      const res = await api.request({
        method: 'POST',
        url: '/api/authz/explain',
        as: admin,
        payload: { action: 'read', subject: 'User', id: member.id },
      })
      t.equal(res.statusCode, 200, res.body.slice(0, 300))
      t.ok(queries.length > 0)
      for (const query of queries) t.match(query, /"omit":\{"passwordHash":true\}|"select":\{(?!.*passwordHash)/, 'no hash loaded')
    })

    t.test('admin-only inputs that answered 500 are 400s', async (t) => {
      for (const date of ['2016-12-31T23:59:60Z', '0000-01-01T00:00:00Z', '2021-02-30T00:00:00Z', '0001-01-01T00:00:00+14:00']) {
        for (const filter of ['from', 'to']) {
          assertProblem(t, await api.request({ url: `/api/admin/audit?${filter}=${encodeURIComponent(date)}`, as: admin }), 400)
        }
      }
      const ok = await api.request({ url: `/api/admin/audit?from=${encodeURIComponent('2020-01-01T00:00:00+02:00')}`, as: admin })
      t.equal(ok.statusCode, 200, 'a proper date is accepted')
    })
  })
}
