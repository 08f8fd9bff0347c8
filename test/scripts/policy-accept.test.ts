import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { projectRoot } from '../../src/project-root.ts'
import { engines } from '../helpers/databases.ts'
import { cliDatabaseEnv, policyCli as cli } from '../helpers/policy-cli.ts'

// An intended change that flips decision-table rows: `validate <dir> --accept` shows the flips and
// writes the new outcomes into exactly those rows of decision-table.md, nothing else.

t.test('validate --accept rewrites the flipped rows of decision-table.md', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'policy-accept-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const env = await cliDatabaseEnv(t, engines.at(-1)!, dir)
  const policies = join(dir, 'policies')
  cpSync(join(projectRoot, 'policies'), policies, { recursive: true })
  const tableFile = join(policies, 'decision-table.md')
  const before = readFileSync(tableFile, 'utf8')

  const rulesFile = join(policies, 'rules.json')
  const rules = JSON.parse(readFileSync(rulesFile, 'utf8')) as Record<string, unknown[]>
  rules.auditor = [...(rules.auditor ?? []), { id: 'auditor.update-tasks', action: 'update', subject: 'Task' }]
  writeFileSync(rulesFile, JSON.stringify(rules, null, 2))

  const plain = await cli(env, 'validate', policies)
  t.equal(plain.code, 1, 'without --accept the failing rows fail')
  t.equal(readFileSync(tableFile, 'utf8'), before, 'and the file is untouched')

  const accepted = await cli(env, 'validate', policies, '--accept')
  t.equal(accepted.code, 0, accepted.stderr)
  t.match(accepted.stdout, /row \d+: auditor update Task own: deny 403 → allow 200/, 'the flips are shown')
  t.match(accepted.stdout, /accepted 9 row\(s\)/)
  const after = readFileSync(tableFile, 'utf8')
  const changed = before
    .split('\n')
    .map((line, i) => [line, after.split('\n')[i] ?? ''] as const)
    .filter(([old, now]) => old !== now)
  t.equal(after.split('\n').length, before.split('\n').length, 'same lines')
  t.equal(changed.length, 9, 'exactly the nine failing rows changed')
  for (const [old, now] of changed) {
    t.match(old, /^\| auditor \| (update|move) \| Task \|/)
    t.same(now.split('|').slice(0, 5), old.split('|').slice(0, 5), 'role, action, subject and resource unchanged')
    t.equal(now.split('|').at(-2), old.split('|').at(-2), 'the note is kept')
  }
  t.same(
    changed.map(([, now]) =>
      now
        .split('|')
        .slice(5, 7)
        .map((cell) => cell.trim()),
    ),
    [...Array<string[]>(8).fill(['allow', '200']), ['deny', '400']],
    'update and move own/shared/other now allowed; moving into no project is a 400',
  )
  const again = await cli(env, 'validate', policies)
  t.equal(again.code, 0, 'the updated table passes')
  t.match(again.stdout, /252 passed, 0 failed/)
  const imported = await cli(env, 'import', policies, 'auditors edit tasks')
  t.equal(imported.code, 0, imported.stderr)
  t.match(imported.stdout, /activated version 2/)

  t.equal((await cli(env, 'validate', join(policies, 'rules.json'), '--accept')).code, 2, '--accept needs a directory')
  t.equal((await cli(env, 'diff', policies, '--accept')).code, 2, 'and only goes with validate')
})
