import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { engines } from '../helpers/databases.ts'
import { cliDatabaseEnv, policyCli as cli } from '../helpers/policy-cli.ts'

// npm run policy -- export|import|validate|diff, as an admin runs it, against a real database.

// Each call is a process that opens the database; one engine is enough here (the API tests cover
// both), and PostgreSQL is the one admins script against.
for (const engine of engines.slice(-1)) {
  t.test(engine, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-cli-'))
    const env = await cliDatabaseEnv(t, engine, dir)
    const exported = join(dir, 'policy.json')

    const out = await cli(env, 'export', exported)
    t.equal(out.code, 0, out.stderr)
    const policy = JSON.parse(readFileSync(exported, 'utf8'))
    t.equal(policy.version, 1)
    t.equal(policy.table.length, 252)

    // A change that flips rows: validate and diff say so and exit 1; import refuses it.
    const changed = {
      rules: [...policy.rules, { id: 'auditor.update-tasks', role: 'auditor', action: 'update', subject: 'Task' }],
      table: policy.table,
    }
    writeFileSync(join(dir, 'changed.json'), JSON.stringify(changed))
    const validate = await cli(env, 'validate', join(dir, 'changed.json'))
    t.equal(validate.code, 1)
    t.match(validate.stdout, /added\s+auditor\.update-tasks/)
    t.match(validate.stdout, /243 passed, 9 failed/)
    t.match(validate.stdout, /row \d+: auditor update Task own: deny 403 → allow 200/)
    t.match(validate.stdout, /impact on live data/)
    const diff = await cli(env, 'diff', join(dir, 'changed.json'))
    t.equal(diff.code, 1)
    t.match(diff.stdout, /9 of 252 decision-table rows fail/)
    const refused = await cli(env, 'import', join(dir, 'changed.json'))
    t.equal(refused.code, 1)
    t.match(refused.stderr, /refused \(decision-table-failed\)/)

    // Invalid rules: named with the rule id.
    writeFileSync(
      join(dir, 'invalid.json'),
      JSON.stringify({
        rules: [
          ...policy.rules,
          { id: 'bad.rule', role: 'member', action: 'read', subject: 'Project', conditions: { ownerId: { $gt: 1 } } },
        ],
      }),
    )
    const invalid = await cli(env, 'validate', join(dir, 'invalid.json'))
    t.equal(invalid.code, 1)
    t.match(invalid.stdout, /member rule "bad.rule" conditions\/ownerId\/\$gt: unknown operator/)

    // The same change with its table updated is activated as version 2, then the files again as 3.
    const table = policy.table.map((row: { role: string; subject: string; action: string; resource: string }) =>
      row.role === 'auditor' && row.subject === 'Task' && (row.action === 'update' || row.action === 'move')
        ? row.resource !== 'none'
          ? { ...row, expect: 'allow', status: 200 }
          : row.action === 'move'
            ? { ...row, status: 400 }
            : row
        : row,
    )
    writeFileSync(join(dir, 'accepted.json'), JSON.stringify({ ...changed, table }))
    const imported = await cli(env, 'import', join(dir, 'accepted.json'), 'auditors', 'fix', 'tasks')
    t.equal(imported.code, 0, imported.stderr)
    t.match(imported.stdout, /activated version 2 \(was 1\)/)
    const files = await cli(env, 'validate', 'policies')
    t.equal(files.code, 0, 'the files pass their own table')
    t.match(files.stdout, /9 row\(s\) flip/, 'and flip the rows version 2 changed')
    const back = await cli(env, 'import', 'policies')
    t.match(back.stdout, /activated version 3/)
    await cli(env, 'export', exported)
    t.equal(JSON.parse(readFileSync(exported, 'utf8')).version, 3)
    t.equal((await cli(env, 'frobnicate', exported)).code, 2)
  })
}
