import { createServer } from 'node:net'
import t from 'tap'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { postgresDriver } from '../../src/db/adapters.ts'
import { PASSWORD, TEST_SECRET } from '../helpers/app.ts'
import { PrivatePostgres, privatePostgresAvailable } from '../helpers/private-postgres.ts'

// PostgreSQL goes away under the server: requests answer 503 problem+json quickly (no hang, no
// stack), readiness says so, and the server recovers by itself when the database is back.

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

t.test('database outage: 503 quickly, then recovery', { skip: privatePostgresAvailable ? false : 'no PostgreSQL binaries' }, async (t) => {
  const pg = new PrivatePostgres(await freePort()).init()
  pg.start()
  t.teardown(() => pg.destroy())
  const driver = postgresDriver(pg.url, 5)
  const app = await buildApp({ ...loadConfig({ JWT_SECRET: TEST_SECRET }), databaseUrl: pg.url }, { driver, logger: false })
  t.teardown(() => app.close().catch(() => {}))
  await app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: 'alice', password: PASSWORD } })
  const token = (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'alice', password: PASSWORD } })).json()
    .accessToken
  const auth = { authorization: `Bearer ${token}` }
  t.equal((await app.inject({ url: '/api/projects', headers: auth })).statusCode, 200)

  // Stop the database under load: every answer is a 200 or a quick 503, never a 500 or a hang.
  let loading = true
  const seen = new Map<number, number>()
  let slowest = 0
  const load = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (loading) {
        const started = performance.now()
        const res = await app.inject({ url: '/api/projects', headers: auth })
        slowest = Math.max(slowest, performance.now() - started)
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
      }
    }),
  )
  await new Promise((resolve) => setTimeout(resolve, 200))
  pg.stop()
  await new Promise((resolve) => setTimeout(resolve, 500))
  loading = false
  await load
  t.same(
    [...seen.keys()].filter((status) => status !== 200 && status !== 503),
    [],
    `only 200 and 503 under load: ${JSON.stringify(Object.fromEntries(seen))}`,
  )
  t.ok(seen.get(503), 'the outage was seen')
  t.ok(slowest < 3000, `slowest answer ${Math.round(slowest)} ms`)

  for (const url of ['/api/projects', '/ready']) {
    const started = performance.now()
    const res = await app.inject({ url, headers: auth })
    const elapsed = performance.now() - started
    t.equal(res.statusCode, 503, `${url} during the outage: ${res.body.slice(0, 160)}`)
    t.match(res.headers['content-type'], /problem\+json/)
    t.match(res.json(), { type: /database-unavailable$/, status: 503 })
    t.notMatch(res.body, /ECONNREFUSED|at .+:\d+:\d+|stack/)
    t.ok(elapsed < 3000, `${url} answered in ${Math.round(elapsed)} ms`)
  }
  const write = await app.inject({ method: 'POST', url: '/api/projects', headers: auth, payload: { name: 'during outage' } })
  t.equal(write.statusCode, 503)

  pg.start()
  let recovered = false
  for (let i = 0; i < 50 && !recovered; i++) {
    recovered = (await app.inject({ url: '/api/projects', headers: auth })).statusCode === 200
    if (!recovered) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(recovered, 'serves again once the database is back, without a restart')
  t.equal((await app.inject({ method: 'POST', url: '/api/projects', headers: auth, payload: { name: 'after' } })).statusCode, 201)
  t.equal((await app.inject({ url: '/ready' })).statusCode, 200)
})
