import { createHmac } from 'node:crypto'
import t from 'tap'
import { assertProblem, PASSWORD, startApp, TEST_SECRET } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// OWASP API2, broken authentication: forged, expired and stale tokens; brute-forced logins.

const b64 = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

function jwt(payload: object, { alg = 'HS256', secret = TEST_SECRET, header = {} } = {}) {
  const head = b64({ alg, typ: 'JWT', ...header })
  const body = b64(payload)
  const hmac =
    alg === 'none'
      ? ''
      : createHmac(alg === 'HS512' ? 'sha512' : 'sha256', secret)
          .update(`${head}.${body}`)
          .digest('base64url')
  return `${head}.${body}.${hmac}`
}

const now = () => Math.floor(Date.now() / 1000)

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)

    t.test('every other /api route needs a valid token', async (t) => {
      const user = await api.user()
      const valid = { sub: String(user.id), iat: now(), exp: now() + 600 }
      const cases: Record<string, string | undefined> = {
        missing: undefined,
        'not bearer': `Basic ${b64('a:b')}`,
        malformed: 'Bearer not-a-jwt',
        'bearer only': 'Bearer ',
        'alg none': `Bearer ${jwt(valid, { alg: 'none' })}`,
        'wrong signature': `Bearer ${jwt(valid, { secret: 'another-secret-another-secret-another-secret' })}`,
        'wrong algorithm': `Bearer ${jwt(valid, { alg: 'HS512' })}`,
        expired: `Bearer ${jwt({ ...valid, iat: now() - 7200, exp: now() - 3600 })}`,
        'not yet valid': `Bearer ${jwt({ ...valid, nbf: now() + 3600 })}`,
        'no subject': `Bearer ${jwt({ iat: now(), exp: now() + 600 })}`,
        'no expiry': `Bearer ${jwt({ sub: String(user.id), iat: now() })}`,
        'subject not a user id': `Bearer ${jwt({ ...valid, sub: 'admin' })}`,
        'unknown user': `Bearer ${jwt({ ...valid, sub: '999999' })}`,
        'garbage json': `Bearer ${b64('{')}.${b64('{')}.${b64('x')}`,
      }
      for (const [name, authorization] of Object.entries(cases)) {
        for (const url of ['/api/me', '/api/projects', '/api/admin/users']) {
          const res = await api.request({ url, headers: authorization === undefined ? {} : { authorization } })
          t.equal(res.statusCode, 401, `${name} ${url}`)
          t.match(res.headers['content-type'], /problem\+json/)
          t.match(res.headers['www-authenticate'], /^Bearer/)
        }
      }
      t.equal(
        (await api.request({ url: '/api/me', headers: { authorization: `Bearer ${jwt(valid)}` } })).statusCode,
        200,
        'a well-formed token works',
      )
    })

    t.test("the user's current role counts, not the one at login; deleted users are out", async (t) => {
      const admin = await api.user('admin')
      t.equal((await api.request({ url: '/api/admin/users', as: admin })).statusCode, 200)
      await api.app.db.user.update({ where: { id: admin.id }, data: { role: 'member' } })
      assertProblem(t, await api.request({ url: '/api/admin/users', as: admin }), 403)
      await api.app.db.user.delete({ where: { id: admin.id } })
      assertProblem(t, await api.request({ url: '/api/me', as: admin }), 401)
    })
  })
}

t.test('login brute force: 429 after the configured failures, per username and address only', async (t) => {
  const api = await startApp(t, 'pglite', { loginMaxFailures: 3, loginWindowSeconds: 900 })
  const victim = await api.user('member')
  const other = await api.user('member')
  const login = (username: string, password: string, ip = '10.0.0.1') =>
    api.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress: ip })
  for (let i = 0; i < 3; i++) t.equal((await login(victim.username, 'wrong password')).statusCode, 401)
  const blocked = await login(victim.username, PASSWORD)
  assertProblem(t, blocked, 429, 'too-many-login-failures')
  t.match(blocked.headers['retry-after'], /^\d+$/)
  t.equal((await login(other.username, PASSWORD)).statusCode, 200, 'other users are not locked out')
  t.equal((await login(victim.username, PASSWORD, '10.0.0.2')).statusCode, 200, 'the same user from another address is not locked out')
})
