import t from 'tap'
import { hashPassword } from '../../src/auth/password.ts'
import { loadConfig } from '../../src/config.ts'
import { assertProblem, PASSWORD, secondInstance, startApp, TEST_PASSWORD_COST, type TestApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// Accounts: one per username whatever its case, password changes and revoked sessions end every
// older token, and password hashes follow the configured cost.

const NEW_PASSWORD = 'a brand new passphrase'

async function login(api: TestApp, username: string, password = PASSWORD) {
  return api.request({ method: 'POST', url: '/api/auth/login', payload: { username, password } })
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine, { loginMaxFailures: 5 })

    t.test('usernames are one account whatever their case; login works in any case', async (t) => {
      const created = await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'Alice', password: PASSWORD } })
      t.equal(created.statusCode, 201)
      t.equal(created.json<{ username: string }>().username, 'Alice', 'the name is kept as written')
      for (const username of ['alice', 'ALICE', 'aLiCe']) {
        const res = await api.request({ method: 'POST', url: '/api/auth/register', payload: { username, password: PASSWORD } })
        assertProblem(t, res, 409, 'username-taken')
      }
      t.equal(await api.app.db.user.count({ where: { username: { in: ['Alice', 'alice', 'ALICE', 'aLiCe'] } } }), 1)
      for (const username of ['Alice', 'alice', 'ALICE']) {
        const res = await login(api, username)
        t.equal(res.statusCode, 200, `login as ${username}`)
        const me = await api.request({ url: '/api/me', headers: bearer(res.json<{ accessToken: string }>().accessToken) })
        t.equal(me.json<{ id: number }>().id, created.json<{ id: number }>().id)
      }
      // `_` is a LIKE wildcard: a lookup must not treat it as one.
      await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'under_score', password: PASSWORD } })
      assertProblem(t, await login(api, 'underXscore'), 401, 'invalid-credentials')
    })

    t.test('the database itself refuses a second account differing only in case', async (t) => {
      await api.app.db.user.create({ data: { username: 'Carol', passwordHash: 'x' } })
      await t.rejects(api.app.db.user.create({ data: { username: 'cAROL', passwordHash: 'x' } }), { code: 'P2002' })
    })

    t.test('changing one’s password ends every older token and answers a new one', async (t) => {
      await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'changer', password: PASSWORD } })
      const tokens = await Promise.all([login(api, 'changer'), login(api, 'CHANGER')])
      const [first, second] = tokens.map((res) => res.json<{ accessToken: string }>().accessToken)
      const wrong = await api.request({
        method: 'POST',
        url: '/api/me/password',
        headers: bearer(first!),
        payload: { currentPassword: 'not my password', newPassword: NEW_PASSWORD },
      })
      assertProblem(t, wrong, 400, 'invalid-current-password')
      t.equal((await login(api, 'changer')).statusCode, 200, 'a wrong current password changes nothing')
      const changed = await api.request({
        method: 'POST',
        url: '/api/me/password',
        headers: bearer(first!),
        payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      })
      t.equal(changed.statusCode, 200)
      const fresh = changed.json<{ accessToken: string }>().accessToken
      // Issued within the same second as the change: only a counter, not `iat`, tells them apart.
      for (const old of [first!, second!]) assertProblem(t, await api.request({ url: '/api/me', headers: bearer(old) }), 401)
      t.equal((await api.request({ url: '/api/me', headers: bearer(fresh) })).statusCode, 200, 'the answered token works')
      assertProblem(t, await login(api, 'changer'), 401, 'invalid-credentials')
      t.equal((await login(api, 'changer', NEW_PASSWORD)).statusCode, 200)
      const bad = await api.request({
        method: 'POST',
        url: '/api/me/password',
        headers: bearer(fresh),
        payload: { currentPassword: NEW_PASSWORD, newPassword: 'short' },
      })
      assertProblem(t, bad, 400, 'validation-error')
    })

    t.test('guessing the current password is throttled like logins', async (t) => {
      const user = await api.user('member')
      const guess = () =>
        api.request({
          method: 'POST',
          url: '/api/me/password',
          as: user,
          payload: { currentPassword: 'guess guess', newPassword: NEW_PASSWORD },
        })
      for (let i = 0; i < 5; i++) assertProblem(t, await guess(), 400)
      const blocked = await guess()
      assertProblem(t, blocked, 429, 'too-many-login-failures')
      t.match(blocked.headers['retry-after'], /^\d+$/)
    })

    t.test('an admin revokes a user’s sessions; members and auditors may not', async (t) => {
      const admin = await api.user('admin')
      const user = await api.user('member')
      const other = (await login(api, user.username)).json<{ accessToken: string }>().accessToken
      for (const role of ['member', 'auditor']) {
        const caller = await api.user(role)
        assertProblem(t, await api.request({ method: 'DELETE', url: `/api/admin/users/${user.id}/sessions`, as: caller }), 403, 'forbidden')
      }
      t.equal((await api.request({ url: '/api/me', as: user })).statusCode, 200, 'refusals revoke nothing')
      const res = await api.request({ method: 'DELETE', url: `/api/admin/users/${user.id}/sessions`, as: admin })
      t.equal(res.statusCode, 204)
      assertProblem(t, await api.request({ url: '/api/me', as: user }), 401)
      assertProblem(t, await api.request({ url: '/api/me', headers: bearer(other) }), 401)
      const again = (await login(api, user.username)).json<{ accessToken: string }>().accessToken
      t.equal((await api.request({ url: '/api/me', headers: bearer(again) })).statusCode, 200, 'they can log in again')
      assertProblem(t, await api.request({ method: 'DELETE', url: '/api/admin/users/2000000000/sessions', as: admin }), 404)
    })

    t.test('a hash of an older cost is replaced at the next successful login', async (t) => {
      const stronger = { ...TEST_PASSWORD_COST, N: TEST_PASSWORD_COST.N * 2 }
      const app = await secondInstance(t, api, { passwordCost: stronger })
      const user = await api.app.db.user.create({
        data: { username: 'oldhash', passwordHash: await hashPassword(PASSWORD, TEST_PASSWORD_COST) },
      })
      const wrong = await app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username: 'oldhash', password: 'wrong password' },
      })
      t.equal(wrong.statusCode, 401)
      t.match(
        (await api.app.db.user.findUnique({ where: { id: user.id } }))!.passwordHash,
        `scrypt$${TEST_PASSWORD_COST.N}$8$1$`,
        'not on a failure',
      )
      const ok = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'oldhash', password: PASSWORD } })
      t.equal(ok.statusCode, 200)
      const rehashed = (await api.app.db.user.findUnique({ where: { id: user.id } }))!.passwordHash
      t.match(rehashed, `scrypt$${stronger.N}$8$1$`)
      t.equal(
        (await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'oldhash', password: PASSWORD } })).statusCode,
        200,
      )
    })
  })
}

t.test('production hashes at the OWASP cost (N=2^17, r=8, p=1) unless configured otherwise', async (t) => {
  t.same(loadConfig({}).passwordCost, { N: 2 ** 17, r: 8, p: 1 })
  t.same(loadConfig({ SCRYPT_LOG2_N: '18' }).passwordCost, { N: 2 ** 18, r: 8, p: 1 })
  t.throws(() => loadConfig({ SCRYPT_LOG2_N: '10' }), /SCRYPT_LOG2_N/)
  t.match(await hashPassword('a password'), /^scrypt\$131072\$8\$1\$/)
})
