import { spawn, type ChildProcess } from 'node:child_process'
import { Agent, request } from 'node:http'
import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { PASSWORD, TEST_SECRET } from '../helpers/app.ts'
import { createTestDatabase, postgresUrl } from '../helpers/databases.ts'

// Two server processes on one PostgreSQL: a policy activated on one is enforced by the other
// within a second, without a restart (LISTEN/NOTIFY). Both stop cleanly on SIGTERM.

const root = join(import.meta.dirname, '../..')

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function startServer(databaseUrl: string): Promise<{ base: string; child: ChildProcess }> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      JWT_SECRET: TEST_SECRET,
      ADMIN_USERNAME: 'root',
      ADMIN_PASSWORD: PASSWORD,
      LOG_LEVEL: 'warn',
      // The lowest cost the server accepts: the admin's hash at startup, not hashing, is not what is tested.
      SCRYPT_LOG2_N: '14',
      // The drain below registers 24 accounts from one address: more than the default allows.
      REGISTER_MAX_PER_ADDRESS: '1000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${base}/ready`)).ok) return { base, child }
    } catch {
      // not answering yet: try again
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  child.kill('SIGKILL')
  throw new Error('server did not become ready')
}

/** SIGTERM, and the exit code; an exited child answers at once, a stuck one is killed after 10 s. */
function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', (code) => {
      clearTimeout(kill)
      resolve(code)
    })
    child.kill('SIGTERM')
  })
}

async function call(base: string, method: string, path: string, token?: string, body?: object, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: res.status, headers: res.headers, body: res.status === 204 ? null : await res.json() }
}

/**
 * A POST over `agent`'s sockets. The drain test opens its connections before it starts: a
 * connection still in the kernel's accept queue at SIGTERM is reset with the listening socket,
 * which says nothing about draining, and on a busy machine the queue is slow to empty.
 */
function post(agent: Agent, base: string, path: string, body: object): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

function get(agent: Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode!))
    })
      .on('error', reject)
      .end()
  })
}

t.test(
  'an activation on one instance is enforced by the other within a second',
  { skip: postgresUrl ? false : 'needs TEST_DATABASE_URL' },
  async (t) => {
    const database = await createTestDatabase('postgres')
    await database.driver.close()
    t.teardown(() => database.drop())
    const [a, b] = await Promise.all([startServer(database.url!), startServer(database.url!)])
    // Whatever happens in the test, no server outlives it.
    t.teardown(async () => {
      await Promise.all([stop(a.child), stop(b.child)])
    })

    const admin = (await call(a.base, 'POST', '/api/auth/login', undefined, { username: 'root', password: PASSWORD })).body.accessToken
    await call(b.base, 'POST', '/api/auth/register', undefined, { username: 'member1', password: PASSWORD })
    const member = (await call(b.base, 'POST', '/api/auth/login', undefined, { username: 'member1', password: PASSWORD })).body.accessToken
    t.equal((await call(b.base, 'POST', '/api/projects', member, { name: 'before' })).status, 201)

    const current = await call(a.base, 'GET', '/api/admin/policies', admin)
    const rules = [
      ...current.body.rules,
      {
        id: 'member.no-new-projects',
        role: 'member',
        action: 'create',
        subject: 'Project',
        inverted: true,
        reason: 'Project creation is frozen.',
      },
    ]
    const table = current.body.table.map((row: { role: string; action: string; subject: string }) =>
      row.role === 'member' && row.action === 'create' && row.subject === 'Project' ? { ...row, expect: 'deny', status: 403 } : row,
    )
    const activated = await call(
      a.base,
      'PUT',
      '/api/admin/policies',
      admin,
      { rules, table, message: 'freeze' },
      { 'if-match': current.headers.get('etag')! },
    )
    t.equal(activated.status, 200)
    const started = performance.now()

    let refused: { status: number; body: { ruleId?: string; detail?: string } } | undefined
    while (performance.now() - started < 3000) {
      const res = await call(b.base, 'POST', '/api/projects', member, { name: 'racing' })
      if (res.status === 403) {
        refused = res
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const elapsed = performance.now() - started
    t.ok(refused, 'the other instance enforces the new version')
    t.ok(elapsed < 1000, `within a second (took ${Math.round(elapsed)} ms)`)
    t.match(refused?.body, { ruleId: 'member.no-new-projects', detail: 'Project creation is frozen.' })
    t.equal((await call(b.base, 'GET', '/api/me', member)).body.policyVersion, 2)

    // SIGTERM drains: requests in flight (slow ones: password hashing) still complete.
    // 24 scrypt hashes keep the server busy for a while; 300 ms is ample for every connection to
    // be accepted (hashing runs off the event loop), and too short for all of them to finish.
    const agent = new Agent({ keepAlive: true, maxSockets: 24 })
    t.teardown(() => agent.destroy())
    await Promise.all(Array.from({ length: 24 }, () => get(agent, `${a.base}/health`)))
    let lastAnswer = 0
    const inFlight = Array.from({ length: 24 }, async (_, i) => {
      const status = await post(agent, a.base, '/api/auth/register', { username: `late${i}`, password: PASSWORD })
      lastAnswer = performance.now()
      return status
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    const signalled = performance.now()
    const exited = stop(a.child)
    t.same(await Promise.all(inFlight), Array(24).fill(201), 'in-flight requests complete during shutdown')
    t.ok(lastAnswer > signalled, `some were still in flight at SIGTERM (last answer ${Math.round(lastAnswer - signalled)} ms after it)`)
    const codes = await Promise.all([exited, stop(b.child)])
    t.same(codes, [0, 0], 'both exit cleanly on SIGTERM')
  },
)
