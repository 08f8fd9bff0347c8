import t from 'tap'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { projectRoot } from '../../src/project-root.ts'
import { TEST_SECRET } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/databases.ts'

// policies/ and the database's active version never silently disagree: a server started next to
// edited files warns and names the import command; next to invalid files it logs an error and
// still starts on the active version.

interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

t.test('startup compares policies/ with the active version', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'policies-drift-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const policiesDir = join(dir, 'policies')
  cpSync(join(projectRoot, 'policies'), policiesDir, { recursive: true })
  const database = await createTestDatabase('pglite')
  t.teardown(() => database.drop())

  /** Starts a server on the shared database, returns what it logged at warn and above. */
  async function start(): Promise<{ lines: LogLine[]; version: number }> {
    const lines: LogLine[] = []
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as LogLine)
        done()
      },
    })
    const app = await buildApp(
      { ...loadConfig({ JWT_SECRET: TEST_SECRET }), databaseUrl: database.url, policiesDir },
      { driver: database.driver, logger: { level: 'warn', stream } },
    )
    await app.ready()
    const version = app.policies.snapshot.version
    await app.close()
    return { lines: lines.filter((line) => /policies/.test(line.msg)), version }
  }

  const first = await start()
  t.same(first.lines, [], 'the files seeded version 1: nothing to say')
  t.same((await start()).lines, [], 'unchanged files: nothing to say')

  const rulesFile = join(policiesDir, 'rules.json')
  const rules = JSON.parse(readFileSync(rulesFile, 'utf8')) as Record<string, unknown[]>
  rules.auditor = [...(rules.auditor ?? []), { id: 'auditor.update-tasks', action: 'update', subject: 'Task' }]
  writeFileSync(rulesFile, JSON.stringify(rules, null, 2))
  const edited = await start()
  t.equal(edited.version, 1, 'the active version stays in force')
  t.equal(edited.lines.length, 1)
  t.match(edited.lines[0], {
    level: 40,
    msg: /differs from the active policy version 1.*npm run policy -- import /,
    rules: { added: ['auditor.update-tasks'], removed: [], changed: [] },
    tableChanged: false,
  })

  writeFileSync(rulesFile, '{ "member": [')
  const unreadable = await start()
  t.equal(unreadable.version, 1, 'invalid files: the server still starts on the active version')
  t.match(unreadable.lines, [{ level: 50, msg: /is invalid and cannot be imported; serving the active policy version 1/ }])
  t.match(JSON.stringify(unreadable.lines[0]?.problems), /rules\.json/)

  rules.member = [{ id: 'member.bad', action: 'read', subject: 'Project', conditions: { ownerId: { $gt: 1 } } }]
  writeFileSync(rulesFile, JSON.stringify(rules))
  const invalid = await start()
  t.match(invalid.lines, [{ level: 50, problems: [/member rule "member.bad" conditions\/ownerId\/\$gt: unknown operator/] }])
})
