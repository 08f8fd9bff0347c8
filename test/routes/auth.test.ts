import { createHmac } from 'node:crypto'
import t from 'tap'
import { createPrismaAbility } from '@casl/prisma/runtime'
import { subject } from '@casl/ability'
import { unpackRules } from '@casl/ability/extra'
import { assertProblem, PASSWORD, startApp, TEST_SECRET } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

const b64 = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

function jwt(payload: object, { alg = 'HS256', secret = TEST_SECRET, header = {} as object } = {}) {
  const head = b64({ alg, typ: 'JWT', ...header })
  const body = b64(payload)
  const hmac = alg === 'none' ? '' : createHmac(alg === 'HS512' ? 'sha512' : 'sha256', secret).update(`${head}.${body}`).digest('base64url')
  return `${head}.${body}.${hmac}`
}

const now = () => Math.floor(Date.now() / 1000)

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)

    t.test('register creates a member; a role in the body never grants one', async (t) => {
      const res = await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'newbie', password: PASSWORD } })
      t.equal(res.statusCode, 201)
      t.same(Object.keys(res.json()).sort(), ['id', 'role', 'username'])
      t.match(res.json(), { username: 'newbie', role: 'member' })
      for (const extra of [{ role: 'admin' }, { isAdmin: true }, { id: 1 }, { passwordHash: 'x' }]) {
        const r = await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'sneaky', password: PASSWORD, ...extra } })
        assertProblem(t, r, 400, 'validation-error')
      }
      t.equal(await api.app.db.user.count({ where: { username: 'sneaky' } }), 0)
      const stored = await api.app.db.user.findUnique({ where: { username: 'newbie' } })
      t.match(stored!.passwordHash, /^scrypt\$/, 'stored as a scrypt hash')
      t.notMatch(stored!.passwordHash, PASSWORD)
    })

    t.test('duplicate username is a 409; bad input a 400', async (t) => {
      await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'taken', password: PASSWORD } })
      assertProblem(t, await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'taken', password: PASSWORD } }), 409, 'username-taken')
      for (const payload of [{ username: 'x' }, { username: 'short', password: '1234567' }, { username: 'has space', password: PASSWORD }, { username: '', password: PASSWORD }]) {
        assertProblem(t, await api.request({ method: 'POST', url: '/api/auth/register', payload }), 400)
      }
    })

    t.test('login returns a bearer token; wrong credentials are 401', async (t) => {
      await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'loginer', password: PASSWORD } })
      const res = await api.request({ method: 'POST', url: '/api/auth/login', payload: { username: 'loginer', password: PASSWORD } })
      t.equal(res.statusCode, 200)
      t.match(res.json(), { accessToken: String, tokenType: 'Bearer', expiresIn: 3600 })
      t.notMatch(res.body, PASSWORD)
      const me = await api.request({ url: '/api/me', headers: { authorization: `Bearer ${res.json().accessToken}` } })
      t.match(me.json(), { username: 'loginer', role: 'member' })
      assertProblem(t, await api.request({ method: 'POST', url: '/api/auth/login', payload: { username: 'loginer', password: 'wrong password' } }), 401, 'invalid-credentials')
      assertProblem(t, await api.request({ method: 'POST', url: '/api/auth/login', payload: { username: 'nobody', password: PASSWORD } }), 401, 'invalid-credentials')
    })

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
      t.equal((await api.request({ url: '/api/me', headers: { authorization: `Bearer ${jwt(valid)}` } })).statusCode, 200, 'a well-formed token works')
    })

    t.test("the user's current role counts, not the one at login; deleted users are out", async (t) => {
      const admin = await api.user('admin')
      t.equal((await api.request({ url: '/api/admin/users', as: admin })).statusCode, 200)
      await api.app.db.user.update({ where: { id: admin.id }, data: { role: 'member' } })
      assertProblem(t, await api.request({ url: '/api/admin/users', as: admin }), 403)
      await api.app.db.user.delete({ where: { id: admin.id } })
      assertProblem(t, await api.request({ url: '/api/me', as: admin }), 401)
    })

    t.test('/api/me returns packed rules that rebuild the same ability', async (t) => {
      const member = await api.user('member')
      const res = await api.request({ url: '/api/me', as: member })
      t.equal(res.statusCode, 200)
      const body = res.json()
      t.match(body, { id: member.id, username: member.username, role: 'member', policyVersion: Number })
      const ability = createPrismaAbility(unpackRules(body.rules) as never)
      t.ok(ability.can('update', subject('Project', { ownerId: member.id } as never)), 'own project')
      t.notOk(ability.can('update', subject('Project', { ownerId: member.id + 1 } as never)), "another's project")
      t.ok(ability.can('read', subject('Task', { project: { ownerId: member.id } } as never)))
      t.notOk(ability.can('read', 'User'))
      t.notMatch(res.body, /\$\{user/, 'placeholders resolved')
    })

    t.test('health and readiness are public; docs describe the API', async (t) => {
      t.same((await api.request({ url: '/health' })).json(), { status: 'ok' })
      t.same((await api.request({ url: '/ready' })).json(), { status: 'ready' })
      const doc = (await api.request({ url: '/docs/json' })).json()
      t.match(doc.openapi, /^3\./)
      for (const path of ['/api/projects', '/api/projects/{id}', '/api/projects/{id}/tasks', '/api/tasks', '/api/tasks/{id}', '/api/admin/users/{id}', '/api/auth/login', '/api/me']) {
        t.ok(doc.paths[path], `documents ${path}`)
      }
      t.ok(doc.paths['/api/tasks'].get.parameters.some((p: { name: string }) => p.name === 'ordering'))
      t.equal((await api.request({ url: '/docs' })).statusCode < 400, true)
      assertProblem(t, await api.request({ url: '/api/nothing-here', as: await api.user() }), 404)
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

t.test('security headers; CORS only for configured origins; deep and odd JSON is a clean 4xx', async (t) => {
  const closed = await startApp(t, 'pglite')
  const res = await closed.request({ url: '/health', headers: { origin: 'https://evil.example' } })
  t.match(res.headers['content-security-policy'], /default-src 'self'/)
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS by default')
  const open = await startApp(t, 'pglite', { corsOrigins: ['https://app.example'] })
  const preflight = await open.request({ method: 'OPTIONS', url: '/api/projects', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } })
  t.equal(preflight.headers['access-control-allow-origin'], 'https://app.example')
  const foreign = await open.request({ url: '/health', headers: { origin: 'https://evil.example' } })
  t.not(foreign.headers['access-control-allow-origin'], 'https://evil.example')
  const user = await closed.user()
  const deep = '{"name":' + '['.repeat(5000) + ']'.repeat(5000) + '}'
  assertProblem(t, await closed.request({ method: 'POST', url: '/api/projects', as: user, headers: { 'content-type': 'application/json' }, payload: deep }), 400)
  assertProblem(t, await closed.request({ method: 'POST', url: '/api/projects', as: user, headers: { 'content-type': 'application/json' }, payload: '{"name":"a","__proto__":{"admin":true}}' }), 400)
  t.equal(await closed.app.db.project.count(), 0)
})
