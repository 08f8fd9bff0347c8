import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { DECISION_TABLE_FILE, parseRuleDocument } from '../../src/policy/files.ts'
import { compileRules } from '../../src/policy/validate.ts'
import { loadConfig } from '../../src/config.ts'
import { TEST_SECRET } from '../helpers/app.ts'
import { validationErrors } from '../helpers/rules.ts'
import { createTestDatabase } from '../helpers/databases.ts'

// Rules that cannot be understood, or translated to SQL, are refused when loaded: fail closed.

const ok = { id: 'ok', action: 'read', subject: 'Project' }

t.test('the shipped policy is valid', async (t) => {
  t.same(validationErrors([ok]), [])
})

t.test('each kind of invalid rule is rejected with the rule and the problem named', async (t) => {
  const cases: Array<[string, object, RegExp, string?]> = [
    ['unknown action', { id: 'r', action: 'approve', subject: 'Project' }, /unknown action "approve"/],
    ['unknown subject', { id: 'r', action: 'read', subject: 'Invoice' }, /unknown subject "Invoice"/],
    ['unknown field', { id: 'r', action: 'update', subject: 'Project', fields: ['secret'] }, /unknown field "secret" on Project/],
    [
      'unknown condition field',
      { id: 'r', action: 'read', subject: 'Project', conditions: { owner_id: 1 } },
      /unknown field "owner_id" on Project/,
    ],
    [
      'unknown operator',
      { id: 'r', action: 'read', subject: 'Project', conditions: { name: { regex: '^a' } } },
      /unknown operator "regex"/,
    ],
    ['mongo operator', { id: 'r', action: 'read', subject: 'Project', conditions: { ownerId: { $eq: 1 } } }, /unknown operator "\$eq"/],
    [
      'unknown placeholder',
      { id: 'r', action: 'read', subject: 'Project', conditions: { ownerId: '${user.uid}' } },
      /unknown placeholder "\$\{user.uid\}"/,
    ],
    [
      'placeholder type mismatch',
      { id: 'r', action: 'read', subject: 'Project', conditions: { ownerId: '${user.username}' } },
      /is String, the field is Int/,
    ],
    ['value type mismatch', { id: 'r', action: 'read', subject: 'Task', conditions: { completed: 'yes' } }, /"yes" is not a valid Boolean/],
    [
      'relation without is/isNot',
      { id: 'r', action: 'read', subject: 'Task', conditions: { project: { ownerId: 1 } } },
      /unknown operator "ownerId" for single relation "project"/,
    ],
    [
      'to-many relation with is',
      { id: 'r', action: 'read', subject: 'Project', conditions: { tasks: { is: { completed: true } } } },
      /use some, every, none/,
    ],
    [
      'text operator on a number',
      { id: 'r', action: 'read', subject: 'Project', conditions: { ownerId: { contains: '1' } } },
      /applies to text fields/,
    ],
    ['conditions on all', { id: 'r', action: 'read', subject: 'all', conditions: { id: 1 } }, /subject "all" cannot have conditions/],
    ['empty OR', { id: 'r', action: 'read', subject: 'Project', conditions: { OR: [] } }, /OR needs at least one condition/],
    [
      'empty NOT (every row in SQL)',
      { id: 'r', action: 'read', subject: 'Project', conditions: { NOT: {} } },
      /empty condition is ambiguous/,
    ],
    ['empty conditions', { id: 'r', action: 'read', subject: 'Project', conditions: {} }, /empty condition is ambiguous/],
    [
      'mode without a text match',
      { id: 'r', action: 'read', subject: 'Project', conditions: { name: { equals: 'A', mode: 'insensitive' } } },
      /mode only applies with contains/,
    ],
    [
      'placeholder in a LIKE operand',
      { id: 'r', action: 'read', subject: 'Project', conditions: { name: { startsWith: '${user.username}' } } },
      /placeholders cannot be used with "startsWith"/,
    ],
    ['fields on read', { id: 'r', action: 'read', subject: 'Project', fields: ['name'] }, /fields can only restrict create and update/],
    ['fields on manage', { id: 'r', action: 'manage', subject: 'Project', fields: ['name'] }, /fields can only restrict create and update/],
    ['integer out of range', { id: 'r', action: 'read', subject: 'Project', conditions: { ownerId: 2 ** 31 } }, /is not a valid Int/],
    [
      'date without time',
      { id: 'r', action: 'read', subject: 'Project', conditions: { createdAt: { lt: '2020-01-01' } } },
      /is not a valid DateTime/,
    ],
    ['in without a list', { id: 'r', action: 'read', subject: 'Project', conditions: { id: { in: 3 } } }, /"in" expects a list/],
  ]
  for (const [name, rule, message] of cases) {
    const errors = validationErrors([rule])
    t.ok(errors.length > 0, `${name}: rejected`)
    t.match(errors[0], { role: 'member', ruleId: 'r', message }, name)
  }
  t.match(validationErrors([ok], 'superuser'), [{ role: 'superuser', message: /unknown role "superuser"/ }])
  t.match(validationErrors([ok, { ...ok }]), [{ ruleId: 'ok', message: /duplicate rule id/ }])
})

t.test('valid relation, logical and placeholder conditions are accepted', async (t) => {
  t.same(
    validationErrors([
      {
        id: 'a',
        action: ['read', 'update'],
        subject: 'Task',
        conditions: { project: { is: { ownerId: '${user.id}' } }, completed: false },
      },
      {
        id: 'b',
        action: 'read',
        subject: 'Project',
        conditions: { OR: [{ ownerId: '${user.id}' }, { name: { startsWith: 'public-', mode: 'insensitive' } }] },
      },
      { id: 'c', action: 'read', subject: 'Project', conditions: { tasks: { some: { completed: true } }, id: { notIn: [1, 2] } } },
      { id: 'd', action: 'update', subject: 'Project', fields: ['name', 'description'], conditions: { ownerId: '${user.id}' } },
      { id: 'e', action: 'delete', subject: 'Project', inverted: true, conditions: { createdAt: { lt: '2020-01-01T00:00:00Z' } } },
    ]),
    [],
  )
})

t.test('a date condition decides the same in memory as in SQL (values become Dates)', async (t) => {
  const { subject } = await import('@casl/ability')
  const policy = compileRules(
    { member: [{ id: 'old', action: 'read', subject: 'Project', conditions: { createdAt: { lt: '2020-01-01T00:00:00Z' } } }] },
    1,
  )
  const ability = policy.abilityFor({ id: 1, username: 'u', role: 'member' })
  t.ok(ability.can('read', subject('Project', { createdAt: new Date('2019-06-01T00:00:00Z') } as never)))
  t.notOk(ability.can('read', subject('Project', { createdAt: new Date('2021-06-01T00:00:00Z') } as never)))
  t.notOk(
    policy.abilityFor({ id: 1, username: 'u', role: 'constructor' }).can('read', 'Project'),
    'a role the policy does not name has no rules',
  )
})

t.test('the document shape is checked too', async (t) => {
  t.throws(
    () => parseRuleDocument({ member: [{ action: 'read', subject: 'Project' }] }),
    /not a valid policy document[\s\S]*id/,
    'rule without id',
  )
  t.throws(
    () => parseRuleDocument({ member: [{ id: 'x', action: 'read', subject: 'Project', because: 'x' }] }),
    /not a valid policy document[\s\S]*additional properties/,
    'unknown key',
  )
  t.throws(() => parseRuleDocument({ member: 'all' }), /not a valid policy document/)
})

t.test('a server with an invalid policy refuses to start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'policies-'))
  copyFileSync(join(import.meta.dirname, '../../policies', DECISION_TABLE_FILE), join(dir, DECISION_TABLE_FILE))
  writeFileSync(
    join(dir, 'rules.json'),
    JSON.stringify({ member: [{ id: 'bad', action: 'read', subject: 'Project', conditions: { ownerId: { $ne: null } } }] }),
  )
  const database = await createTestDatabase('pglite')
  t.teardown(() => database.drop())
  const config = { ...loadConfig({ JWT_SECRET: TEST_SECRET }), policiesDir: dir }
  await t.rejects(
    (async () => {
      const app = await buildApp(config, { driver: database.driver, logger: false })
      await app.close()
    })(),
    /member rule "bad" conditions\/ownerId\/\$ne: unknown operator/,
  )
})
