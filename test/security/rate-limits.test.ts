import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { assertProblem, PASSWORD, secondInstance, startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// OWASP API4 (unrestricted resource consumption) and API2 (password spraying): registration and
// login hash with scrypt, so every attempt costs the server; they are counted per client
// address, logins per username at an address too, in counters all instances share.

const limits = { loginMaxFailures: 3, loginMaxFailuresPerAddress: 5, loginWindowSeconds: 900, registerMaxPerAddress: 3 }

function login(app: FastifyInstance, username: string, password: string, remoteAddress = '10.1.0.1') {
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password }, remoteAddress })
}

function register(app: FastifyInstance, username: string, remoteAddress = '10.2.0.1') {
  return app.inject({ method: 'POST', url: '/api/auth/register', payload: { username, password: PASSWORD }, remoteAddress })
}

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine, limits)

    t.test('password spraying: failures over many usernames from one address are limited', async (t) => {
      const sprayed = await Promise.all(Array.from({ length: 6 }, () => api.user('member')))
      for (const user of sprayed.slice(0, 5)) t.equal((await login(api.app, user.username, 'wrong password')).statusCode, 401)
      const blocked = await login(api.app, sprayed[5]!.username, PASSWORD)
      const body = assertProblem(t, blocked, 429, 'too-many-login-failures')
      t.match(body.detail, /from your address/)
      t.ok(Number(blocked.headers['retry-after']) > 800, `Retry-After ${String(blocked.headers['retry-after'])}`)
      t.equal((await login(api.app, sprayed[5]!.username, PASSWORD, '10.1.0.2')).statusCode, 200, 'other addresses are unaffected')
    })

    t.test('successful logins do not use up the address allowance', async (t) => {
      const user = await api.user('member')
      for (let i = 0; i < 8; i++) t.equal((await login(api.app, user.username, PASSWORD, '10.1.1.1')).statusCode, 200)
    })

    t.test('parallel guesses are all counted: no more than the limit reach the password check', async (t) => {
      const user = await api.user('member')
      const answers = await Promise.all(Array.from({ length: 12 }, () => login(api.app, user.username, 'wrong password', '10.1.2.1')))
      const statuses = answers.map((answer) => answer.statusCode).sort()
      t.same(statuses, [...Array<number>(3).fill(401), ...Array<number>(9).fill(429)])
    })

    t.test('registration is limited per address, and a refused one creates nothing', async (t) => {
      for (let i = 0; i < 3; i++) t.equal((await register(api.app, `reg_${engine}_${i}`)).statusCode, 201)
      const blocked = await register(api.app, `reg_${engine}_blocked`)
      assertProblem(t, blocked, 429, 'too-many-registrations')
      t.match(blocked.headers['retry-after'], /^\d+$/)
      t.equal(await api.app.db.user.count({ where: { username: `reg_${engine}_blocked` } }), 0)
      t.equal((await register(api.app, `reg_${engine}_elsewhere`, '10.2.0.2')).statusCode, 201, 'other addresses are unaffected')
    })

    t.test('two instances on one database share the counters', async (t) => {
      const other = await secondInstance(t, api, limits)
      const user = await api.user('member')
      const instances = [api.app, other, api.app]
      for (const app of instances) t.equal((await login(app, user.username, 'wrong password', '10.1.3.1')).statusCode, 401)
      assertProblem(t, await login(other, user.username, PASSWORD, '10.1.3.1'), 429, 'too-many-login-failures')
      assertProblem(t, await login(api.app, user.username, PASSWORD, '10.1.3.1'), 429, 'too-many-login-failures')
      for (const [i, app] of [api.app, other, api.app].entries()) {
        t.equal((await register(app, `shared_${engine}_${i}`, '10.2.3.1')).statusCode, 201)
      }
      assertProblem(t, await register(other, `shared_${engine}_3`, '10.2.3.1'), 429, 'too-many-registrations')
    })

    t.test('a window ends: counting starts again, and ended windows are deleted', async (t) => {
      const short = await secondInstance(t, api, { ...limits, loginWindowSeconds: 1 })
      const user = await api.user('member')
      for (let i = 0; i < 3; i++) await login(short, user.username, 'wrong password', '10.1.4.1')
      const blocked = await login(short, user.username, PASSWORD, '10.1.4.1')
      assertProblem(t, blocked, 429)
      t.equal(blocked.headers['retry-after'], '1')
      await new Promise((resolve) => setTimeout(resolve, 1100))
      t.equal((await login(short, user.username, PASSWORD, '10.1.4.1')).statusCode, 200)
      await api.app.db.rateLimit.create({ data: { key: 'stale', count: 1, expiresAt: new Date(Date.now() - 60_000) } })
      // A new instance cleans up on its first attempt (then at most once a minute).
      const fresh = await secondInstance(t, api, limits)
      await login(fresh, user.username, PASSWORD, '10.1.4.2')
      t.equal(await api.app.db.rateLimit.count({ where: { key: 'stale' } }), 0)
    })
  })
}
