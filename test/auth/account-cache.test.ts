import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { AccountCache, type AccountCacheStats, type CachedAccount } from '../../src/auth/account-cache.ts'
import { LISTENER_APPLICATION_NAME, type ChannelFollower, type Notifications } from '../../src/db/notifications.ts'
import { PASSWORD, secondInstance, startApp, TEST_SECRET, type Account, type TestApp } from '../helpers/app.ts'
import { createTestDatabase, engines, postgresUrl } from '../helpers/databases.ts'
import { startServerProcess } from '../helpers/server-process.ts'

// The account cache (src/auth/account-cache.ts) must keep the guarantee of reading the users
// table on every request: a demotion, a rename, revoked sessions or a deletion hold on the very
// next request, whichever instance or tool made them. Each change below is followed at once by
// one request; without the round trip a hit waits for, a notification still on its way lets a
// good share of those requests see the old account (measured: about a quarter of them), so the
// loops make a missing wait fail.

const ROUNDS = 10

async function accountStats(app: { inject: TestApp['app']['inject'] }): Promise<AccountCacheStats> {
  return (await app.inject({ url: '/ready' })).json<{ accounts: AccountCacheStats }>().accounts
}

const me = async (api: TestApp, as: Account) => api.request({ url: '/api/me', as })

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)

    t.test("a caller's second request is served from memory", async (t) => {
      const user = await api.user('member')
      const before = await accountStats(api.app)
      t.equal(before.following, true, 'following account changes')
      t.equal((await me(api, user)).statusCode, 200)
      t.equal((await me(api, user)).statusCode, 200)
      const after = await accountStats(api.app)
      t.equal(after.misses - before.misses, 1, 'the first reads the database')
      t.equal(after.hits - before.hits, 1, 'the second does not')
    })

    t.test('changes written with SQL, past the API, hold on the very next request', async (t) => {
      const user = await api.user('member')
      const seen: string[] = []
      const expected: string[] = []
      for (let i = 0; i < ROUNDS; i++) {
        for (const role of ['auditor', 'member']) {
          t.equal((await me(api, user)).statusCode, 200) // the account is in memory now
          await api.app.db.$executeRaw`UPDATE users SET role = ${role} WHERE id = ${user.id}`
          seen.push((await me(api, user)).json<{ role: string }>().role)
          expected.push(role)
        }
      }
      t.same(seen, expected, 'every role change, on the request right after it')

      await me(api, user)
      await api.app.db.$executeRaw`UPDATE users SET username = ${`renamed_${user.id}`} WHERE id = ${user.id}`
      t.equal((await me(api, user)).json<{ username: string }>().username, `renamed_${user.id}`, 'a rename')

      await me(api, user)
      await api.app.db.$executeRaw`UPDATE users SET session_version = session_version + 1 WHERE id = ${user.id}`
      t.equal((await me(api, user)).statusCode, 401, 'revoked sessions')

      const doomed = await api.user('member')
      await me(api, doomed)
      await api.app.db.$executeRaw`DELETE FROM users WHERE id = ${doomed.id}`
      t.equal((await me(api, doomed)).statusCode, 401, 'a deletion')

      const survivor = await api.user('member')
      await me(api, survivor)
      await api.app.db.$executeRaw`TRUNCATE users CASCADE`
      t.equal((await me(api, survivor)).statusCode, 401, 'every account at once (TRUNCATE)')
      t.ok((await accountStats(api.app)).hits > 0, 'the cache was in use')
    })

    t.test('changes made through another instance on the same database hold on the very next request here', async (t) => {
      const other = await secondInstance(t, api)
      const admin = await api.user('admin')
      const user = await api.user('admin')
      const asAdmin = { authorization: `Bearer ${admin.token}` }
      const setRole = async (role: string) => {
        const res = await other.inject({ method: 'PATCH', url: `/api/admin/users/${user.id}`, headers: asAdmin, payload: { role } })
        t.equal(res.statusCode, 200, `${role} on the other instance`)
      }
      const statuses: number[] = []
      for (let i = 0; i < ROUNDS; i++) {
        t.equal((await api.request({ url: '/api/admin/users', as: user })).statusCode, 200)
        await setRole('member')
        statuses.push((await api.request({ url: '/api/admin/users', as: user })).statusCode)
        await setRole('admin')
        statuses.push((await api.request({ url: '/api/admin/users', as: user })).statusCode)
      }
      t.same(statuses, Array.from({ length: ROUNDS }, () => [403, 200]).flat(), 'demoted: 403 at once; promoted: 200 at once')

      await me(api, user)
      t.equal((await other.inject({ method: 'DELETE', url: `/api/admin/users/${user.id}/sessions`, headers: asAdmin })).statusCode, 204)
      t.equal((await me(api, user)).statusCode, 401, 'sessions revoked there: 401 here')

      const doomed = await api.user('member')
      await me(api, doomed)
      t.equal((await other.inject({ method: 'DELETE', url: `/api/admin/users/${doomed.id}`, headers: asAdmin })).statusCode, 204)
      t.equal((await me(api, doomed)).statusCode, 401, 'deleted there: 401 here')
    })
  })
}

const needsPostgres = { skip: postgresUrl ? false : 'needs TEST_DATABASE_URL' }

t.test('PostgreSQL: with the listener down the cache is bypassed, and used again once it is back', needsPostgres, async (t) => {
  const api = await startApp(t, 'postgres')
  const sql = new pg.Client({ connectionString: api.database.url })
  await sql.connect()
  t.teardown(() => sql.end())
  const user = await api.user('member')
  await me(api, user)
  await me(api, user)
  const warm = await accountStats(api.app)
  t.ok(warm.hits > 0 && warm.following, 'in memory')

  const killed = await sql.query<{ done: boolean }>(
    'SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()',
    [LISTENER_APPLICATION_NAME],
  )
  t.same(killed.rows, [{ done: true }], 'the listening connection is closed')
  // Whether or not the server has noticed yet, nothing notified it of this change.
  await sql.query(`UPDATE users SET role = 'auditor' WHERE id = $1`, [user.id])
  t.equal((await me(api, user)).json<{ role: string }>().role, 'auditor', 'the change holds on the next request')
  const down = await accountStats(api.app)
  t.equal(down.hits, warm.hits, 'not served from memory')
  t.ok(down.bypassed > warm.bypassed, 'read from the database, past the cache')

  let back = down
  for (let i = 0; i < 100 && !back.following; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    back = await accountStats(api.app)
  }
  t.ok(back.following, 'listening again')
  await me(api, user)
  t.equal((await me(api, user)).json<{ role: string }>().role, 'auditor')
  t.equal((await accountStats(api.app)).hits, back.hits + 1, 'served from memory again')
})

t.test(
  'PostgreSQL: two server processes; a change made through one holds on the very next request to the other',
  needsPostgres,
  async (t) => {
    const database = await createTestDatabase('postgres')
    await database.driver.close()
    t.teardown(() => database.drop())
    const env = {
      DATABASE_URL: database.url!,
      JWT_SECRET: TEST_SECRET,
      ADMIN_USERNAME: 'root',
      ADMIN_PASSWORD: PASSWORD,
      LOG_LEVEL: 'warn',
      // The lowest cost the server accepts: hashing is not what is tested.
      SCRYPT_LOG2_N: '14',
    }
    const root = join(import.meta.dirname, '../..')
    const [a, b] = await Promise.all([0, 1].map(() => startServerProcess({ cwd: root, env, fromSource: true })))
    t.teardown(async () => {
      await Promise.all([a!.stop(), b!.stop()])
    })
    const call = async (base: string, method: string, path: string, token?: string, body?: object) => {
      const res = await fetch(base + path, {
        method,
        headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      })
      return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as Record<string, unknown>) }
    }
    const login = async (base: string, username: string) =>
      (await call(base, 'POST', '/api/auth/login', undefined, { username, password: PASSWORD })).body!.accessToken as string

    const root_ = await login(a!.base, 'root')
    t.equal((await call(b!.base, 'POST', '/api/auth/register', undefined, { username: 'walker', password: PASSWORD })).status, 201)
    let token = await login(b!.base, 'walker')
    const id = (await call(b!.base, 'GET', '/api/me', token)).body!.id as number
    const setRole = async (role: string) => t.equal((await call(a!.base, 'PATCH', `/api/admin/users/${id}`, root_, { role })).status, 200)
    await setRole('admin')

    const statuses: number[] = []
    for (let i = 0; i < ROUNDS; i++) {
      t.equal((await call(b!.base, 'GET', '/api/admin/users', token)).status, 200)
      await setRole('member')
      statuses.push((await call(b!.base, 'GET', '/api/admin/users', token)).status)
      await setRole('admin')
      statuses.push((await call(b!.base, 'GET', '/api/admin/users', token)).status)
    }
    t.same(statuses, Array.from({ length: ROUNDS }, () => [403, 200]).flat(), 'demoted on A: 403 on B at once; promoted: 200 at once')

    const sql = new pg.Client({ connectionString: database.url })
    await sql.connect()
    t.teardown(() => sql.end())
    await call(b!.base, 'GET', '/api/me', token)
    await sql.query(`UPDATE users SET username = 'walker_renamed' WHERE id = $1`, [id])
    t.equal((await call(b!.base, 'GET', '/api/me', token)).body!.username, 'walker_renamed', 'renamed with psql: the new name on B at once')

    await call(b!.base, 'GET', '/api/me', token)
    t.equal((await call(a!.base, 'DELETE', `/api/admin/users/${id}/sessions`, root_)).status, 204)
    t.equal((await call(b!.base, 'GET', '/api/me', token)).status, 401, 'sessions revoked on A: 401 on B at once')

    token = await login(b!.base, 'walker_renamed')
    await call(b!.base, 'GET', '/api/me', token)
    t.equal((await call(a!.base, 'DELETE', `/api/admin/users/${id}`, root_)).status, 204)
    t.equal((await call(b!.base, 'GET', '/api/me', token)).status, 401, 'deleted on A: 401 on B at once')

    const stats = (await call(b!.base, 'GET', '/ready')).body!.accounts as AccountCacheStats
    t.ok(stats.hits >= ROUNDS, `B served its requests from memory (${JSON.stringify(stats)})`)
  },
)

interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: Error): void
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: Error) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

// The cache alone, around a fake listener: the orderings a test over HTTP cannot force.
t.test('the cache, with the notifications in a chosen order', async (t) => {
  const row = (role: string, username = 'u'): CachedAccount => ({ id: 1, username, role, sessionVersion: 0 })
  function setup(maxEntries = 10) {
    let follower: ChannelFollower | undefined
    let syncing: Deferred<undefined> | undefined
    const notifications: Notifications = {
      listen: async (_channel, f) => {
        follower = f
        f.listening?.()
      },
      sync: async () => {
        await syncing?.promise
      },
      close: async () => {},
    }
    const loads: Array<Deferred<CachedAccount | null>> = []
    const cache = new AccountCache(() => {
      const load = deferred<CachedAccount | null>()
      loads.push(load)
      return load.promise
    }, maxEntries)
    return {
      cache,
      loads,
      follower: () => follower!,
      hold: () => (syncing = deferred<undefined>()),
      follow: () => cache.follow(notifications),
    }
  }

  t.test('a row read before a change is not kept once the change is notified', async (t) => {
    const { cache, loads, follower, follow } = setup()
    await follow()
    const reading = cache.get(1)
    follower().notify('1') // committed and notified while the old row is on its way
    loads[0]!.resolve(row('admin'))
    t.equal((await reading)?.role, 'admin', 'the request that began before the change sees the old row')
    const next = cache.get(1)
    t.equal(loads.length, 2, 'the next request reads again')
    loads[1]!.resolve(row('member'))
    t.equal((await next)?.role, 'member')
    t.equal((await cache.get(1))?.role, 'member', 'and that row is kept')
    t.equal(loads.length, 2)
  })

  t.test('a hit waits for the notifications committed before it began', async (t) => {
    const { cache, loads, follower, follow, hold } = setup()
    await follow()
    const first = cache.get(1)
    loads[0]!.resolve(row('admin'))
    await first
    const sync = hold()
    const next = cache.get(1)
    follower().notify('1') // arrives during the round trip
    sync.resolve(undefined)
    await new Promise((resolve) => setImmediate(resolve))
    t.equal(loads.length, 2, 'not served from memory')
    loads[1]!.resolve(row('member'))
    t.equal((await next)?.role, 'member')
  })

  t.test('a failed round trip reads the database and keeps nothing', async (t) => {
    const { cache, loads, follow, hold } = setup()
    await follow()
    const first = cache.get(1)
    loads[0]!.resolve(row('admin'))
    await first
    const sync = hold()
    const next = cache.get(1)
    sync.reject(new Error('connection lost'))
    await new Promise((resolve) => setImmediate(resolve))
    t.equal(loads.length, 2)
    loads[1]!.resolve(row('member'))
    t.equal((await next)?.role, 'member')
    t.equal(cache.stats().bypassed, 1)
  })

  t.test('not listening: nothing served from memory, nothing kept; listening again starts empty', async (t) => {
    const { cache, loads, follower, follow } = setup()
    t.equal(cache.stats().following, false)
    const before = cache.get(1)
    loads[0]!.resolve(row('admin'))
    await before
    t.equal(cache.stats().entries, 0, 'not kept before following')
    await follow()
    const warm = cache.get(1)
    loads[1]!.resolve(row('admin'))
    await warm
    const reading = cache.get(2)
    follower().deaf?.()
    t.equal(cache.stats().entries, 0, 'emptied on a lost connection')
    loads[2]!.resolve({ ...row('admin'), id: 2 })
    await reading
    const deaf = cache.get(1)
    t.equal(loads.length, 4, 'read from the database while deaf')
    loads[3]!.resolve(row('member'))
    await deaf
    follower().listening?.()
    t.same(cache.stats().entries, 0, 'nothing read meanwhile was kept')
  })

  t.test('bounded: the least recently used goes first', async (t) => {
    const { cache, loads, follow } = setup(2)
    await follow()
    const read = async (id: number) => {
      const pending = cache.get(id)
      loads.at(-1)!.resolve({ ...row('member'), id })
      await pending
    }
    await read(1)
    await read(2)
    await cache.get(1) // a hit: 1 is now the most recent
    await read(3)
    t.equal(cache.stats().entries, 2)
    const loaded = loads.length
    await cache.get(1)
    t.equal(loads.length, loaded, '1 kept')
    const pending = cache.get(2)
    t.equal(loads.length, loaded + 1, '2 evicted')
    loads.at(-1)!.resolve({ ...row('member'), id: 2 })
    await pending
  })

  t.test('"*" (TRUNCATE) forgets every account', async (t) => {
    const { cache, loads, follower, follow } = setup()
    await follow()
    const first = cache.get(1)
    loads[0]!.resolve(row('admin'))
    await first
    follower().notify('*')
    t.equal(cache.stats().entries, 0)
  })
})
