import t, { type Test } from 'tap'
import { PrismaClient } from '../../src/generated/prisma/client.ts'
import { AuditLog } from '../../src/policy/audit-log.ts'
import { startApp, type Account, type TestApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// The audit trail of denials cannot be suppressed by what a caller sends: request ids, long
// URLs, NUL characters. One bad row never loses the rest of its batch, a full queue sheds
// visibly, and a graceful shutdown writes what is queued.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

async function denials(t: Test, api: TestApp, admin: Account) {
  const res = await api.request({ url: '/api/admin/audit?kind=request.denied&limit=100&ordering=id', as: admin })
  t.equal(res.statusCode, 200, 'the audit log answers')
  return res.json<{ items: Array<{ requestId: string | null; userId: number; detail: { url: string } }> }>().items
}

const silent = { error() {}, warn() {}, info() {} } as never

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const admin = await api.user('admin')
    const member = await api.user('member')
    // Every GET of the audit log by a member is a denial (403) that must be recorded.
    const deny = (headers: Record<string, string> = {}, url = '/api/admin/audit') => api.request({ url, as: member, headers })

    t.test('a 101-character request id does not lose the denials batched with it', async (t) => {
      const before = (await denials(t, api, admin)).length
      const long = 'a'.repeat(101)
      t.equal((await deny({ 'x-request-id': long })).statusCode, 403)
      t.equal((await deny({ 'x-request-id': 'trace-1' })).statusCode, 403)
      const rows = (await denials(t, api, admin)).slice(before)
      t.equal(rows.length, 2, 'both denials recorded')
      t.match(rows[0]!.requestId, UUID, 'an unusable id is replaced by a generated one')
      t.equal(rows[1]!.requestId, 'trace-1', 'a usable id is kept')
    })

    t.test('request ids: only a safe character set and at most 100 characters are honoured', async (t) => {
      for (const bad of ['a b', 'x'.repeat(101), '<script>', 'ü', 'a\tb', '']) {
        const res = await deny({ 'x-request-id': bad })
        t.match(res.headers['x-request-id'] ?? '', UUID, `${JSON.stringify(bad.slice(0, 20))} replaced`)
      }
      const kept = 'Ab9._:-'.padEnd(100, 'z')
      const res = await api.request({ url: '/health', headers: { 'x-request-id': kept } })
      t.equal(res.headers['x-request-id'], kept)
    })

    t.test('a huge query string is recorded shortened, NUL characters stripped', async (t) => {
      const before = (await denials(t, api, admin)).length
      t.equal((await deny({}, `/api/admin/audit?subject=${'s'.repeat(15_000)}`)).statusCode, 400, 'a schema refusal is no denial')
      // Another member's project: a hidden 404, which is audited, with whatever query came along.
      const theirs = await api.app.db.project.create({ data: { name: 'theirs', ownerId: admin.id } })
      const url = `/api/projects/${theirs.id}?x=${'u'.repeat(15_000)}%00`
      t.equal((await deny({}, url)).statusCode, 404)
      const rows = (await denials(t, api, admin)).slice(before)
      t.equal(rows.length, 1)
      t.ok(rows[0]!.detail.url.length <= 2100, `url stored in ${rows[0]!.detail.url.length} characters`)
      t.ok(rows[0]!.detail.url.startsWith(`/api/projects/${theirs.id}?x=uuu`))
      t.notOk(rows[0]!.detail.url.includes('\u0000'), 'no NUL')
    })

    t.test('one row the database refuses does not drop its batch; the failure is counted and logged', async (t) => {
      const logged: unknown[] = []
      const log = { ...(silent as object), error: (...args: unknown[]) => logged.push(args) } as never
      const audit = new AuditLog(api.app.db, log)
      const base = { kind: 'request.denied', userId: member.id, action: 'read', subject: 'Project', status: 403, createdAt: new Date() }
      audit.record({ ...base, ruleId: 'batch.ok.1' })
      // Out of range for the column: no sanitising can anticipate every such row.
      audit.record({ ...base, ruleId: 'batch.bad', objectId: 2 ** 40 })
      audit.record({ ...base, ruleId: 'batch.ok.2', requestId: 'r'.repeat(500), username: `nul\u0000${'n'.repeat(400)}` })
      await audit.flush()
      const stored = await api.app.db.auditEvent.findMany({ where: { ruleId: { startsWith: 'batch.' } }, orderBy: { id: 'asc' } })
      t.same(
        stored.map((row) => row.ruleId),
        ['batch.ok.1', 'batch.ok.2'],
      )
      t.ok(stored[1]!.requestId!.length <= 100)
      t.notOk(stored[1]!.username!.includes('\u0000'), 'no NUL')
      t.same(audit.stats(), { queued: 0, dropped: 0, failed: 1 })
      t.ok(logged.length >= 1, 'the lost row is logged')
    })

    t.test('a full queue sheds with a visible count and never blocks', async (t) => {
      const warned: unknown[] = []
      const log = { ...(silent as object), warn: (...args: unknown[]) => warned.push(args) } as never
      const audit = new AuditLog(api.app.db, log, { capacity: 3 })
      const event = { kind: 'request.denied', userId: member.id, ruleId: 'shed', createdAt: new Date() }
      for (let i = 0; i < 5; i++) audit.record(event)
      t.same(audit.stats(), { queued: 3, dropped: 2, failed: 0 })
      t.ok(warned.length >= 1, 'shedding is logged')
      await audit.flush()
      t.same(audit.stats(), { queued: 0, dropped: 2, failed: 0 })
      t.equal(await api.app.db.auditEvent.count({ where: { ruleId: 'shed' } }), 3)
    })

    t.test('/ready reports the audit queue', async (t) => {
      const res = await api.request({ url: '/ready' })
      t.equal(res.statusCode, 200)
      t.match(res.json(), { status: 'ready', audit: { queued: Number, dropped: Number, failed: Number } })
    })
  })

  t.test(`${engine}: a graceful shutdown writes the queued denials`, async (t) => {
    const api = await startApp(t, engine)
    const member = await api.user('member')
    t.equal((await api.request({ url: '/api/admin/audit', as: member, headers: { 'x-request-id': 'at-shutdown' } })).statusCode, 403)
    await api.app.close()
    const db = new PrismaClient({ adapter: api.database.driver.factory })
    t.teardown(() => db.$disconnect())
    t.equal(await db.auditEvent.count({ where: { requestId: 'at-shutdown' } }), 1)
  })
}
