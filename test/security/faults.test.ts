import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildServer } from '../../scripts/build-server.ts'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { postgresDriver } from '../../src/db/adapters.ts'
import { PASSWORD, TEST_SECRET } from '../helpers/app.ts'
import { PrivatePostgres, privatePostgresAvailable } from '../helpers/private-postgres.ts'
import { freePort, startServerProcess } from '../helpers/server-process.ts'

// PostgreSQL goes away under the server: requests answer 503 problem+json quickly (no hang, no
// stack), readiness says so, and the server recovers by itself when the database is back.

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

t.test(
  'the compiled server, as the image runs it: first start, SIGTERM drains and exits 0, a stuck request meets the deadline',
  async (t) => {
    await buildServer()
    const root = join(import.meta.dirname, '../..')
    const dir = mkdtempSync(join(tmpdir(), 'server-process-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    // Configuration from a .env file in the working directory; the environment wins over it
    // (PORT here is overridden by the one the helper passes).
    writeFileSync(
      join(dir, '.env'),
      `# read at startup\nPOLICIES_DIR=${join(root, 'policies')}\nJWT_SECRET=${TEST_SECRET}\nPORT=1\nSHUTDOWN_TIMEOUT_SECONDS=2\n`,
    )
    // 24 registrations from one address below: more than the default allows.
    const env = {
      DATA_DIR: join(dir, 'data'),
      DATABASE_URL: '',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      REGISTER_MAX_PER_ADDRESS: '1000',
    }

    const server = await startServerProcess({ cwd: dir, env })
    t.teardown(() => server.stop(0))
    t.notMatch(readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8'), /tsx|npm/, 'plain node runs the compiled file')
    const messages = server.logs.map((line) => line.msg)
    t.ok(messages.includes('creating the embedded database…'), 'a new embedded database is announced before initdb')
    t.ok(
      messages.some((msg) => /^applying \d+ database migration\(s\)…$/.test(msg)),
      'and the migrations before they run',
    )

    // 24 registrations (scrypt) keep the server busy. SIGTERM once the server has received all of
    // them (its log says so) and before it has answered them all.
    const requests = (msg: string) => server.logs.filter((line) => line.msg === msg).length
    const receivedBefore = requests('incoming request')
    const answeredBefore = requests('request completed')
    const inFlight = Array.from({ length: 24 }, async (_, i) => {
      const res = await fetch(`${server.base}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: `late${i}`, password: PASSWORD }),
      })
      return res.status
    })
    while (requests('incoming request') - receivedBefore < 24) await new Promise((resolve) => setTimeout(resolve, 5))
    const code = server.stop()
    const answeredAtSignal = requests('request completed') - answeredBefore
    t.ok(answeredAtSignal < 24, `some were still in flight at SIGTERM (${24 - answeredAtSignal} of 24)`)
    t.same(await Promise.all(inFlight), Array(24).fill(201), 'in-flight requests complete during shutdown')
    t.equal(await code, 0, 'exits 0 once drained')
    t.ok(
      server.logs.some((line) => line.msg === 'shutting down: draining in-flight requests' && line.signal === 'SIGTERM'),
      'the shutdown is logged',
    )

    // A request that never finishes (its body never arrives) cannot hold the process past the deadline.
    const again = await startServerProcess({ cwd: dir, env })
    t.teardown(() => again.stop(0))
    t.notOk(
      again.logs.some((line) => line.msg === 'creating the embedded database…'),
      'the existing database is reused',
    )
    const socket = connect(Number(new URL(again.base).port), '127.0.0.1')
    t.teardown(() => socket.destroy())
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write('POST /api/auth/register HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{')
    await new Promise((resolve) => setTimeout(resolve, 200))
    const stopped = performance.now()
    t.equal(await again.stop(), 1, 'exits 1: the request was cut off')
    const took = performance.now() - stopped
    t.ok(took >= 1900 && took < 10_000, `after SHUTDOWN_TIMEOUT_SECONDS=2 (took ${Math.round(took)} ms)`)
    t.ok(
      again.logs.some((line) => /killed by timeout/.test(line.msg)),
      'the forced exit is logged',
    )
  },
)
