import t from 'tap'
import { createPrismaAbility } from '@casl/prisma/runtime'
import { subject } from '@casl/ability'
import { unpackRules } from '@casl/ability/extra'
import { assertProblem, PASSWORD, startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)

    t.test('register creates a member; a role in the body never grants one', async (t) => {
      const res = await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'newbie', password: PASSWORD } })
      t.equal(res.statusCode, 201)
      t.same(Object.keys(res.json()).sort(), ['id', 'role', 'username'])
      t.match(res.json(), { username: 'newbie', role: 'member' })
      for (const extra of [{ role: 'admin' }, { isAdmin: true }, { id: 1 }, { passwordHash: 'x' }]) {
        const r = await api.request({
          method: 'POST',
          url: '/api/auth/register',
          payload: { username: 'sneaky', password: PASSWORD, ...extra },
        })
        assertProblem(t, r, 400, 'validation-error')
      }
      t.equal(await api.app.db.user.count({ where: { username: 'sneaky' } }), 0)
      const stored = await api.app.db.user.findUnique({ where: { username: 'newbie' } })
      t.match(stored!.passwordHash, /^scrypt\$/, 'stored as a scrypt hash')
      t.notMatch(stored!.passwordHash, PASSWORD)
    })

    t.test('duplicate username is a 409; bad input a 400', async (t) => {
      await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'taken', password: PASSWORD } })
      assertProblem(
        t,
        await api.request({ method: 'POST', url: '/api/auth/register', payload: { username: 'taken', password: PASSWORD } }),
        409,
        'username-taken',
      )
      for (const payload of [
        { username: 'x' },
        { username: 'short', password: '1234567' },
        { username: 'has space', password: PASSWORD },
        { username: '', password: PASSWORD },
      ]) {
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
      assertProblem(
        t,
        await api.request({ method: 'POST', url: '/api/auth/login', payload: { username: 'loginer', password: 'wrong password' } }),
        401,
        'invalid-credentials',
      )
      assertProblem(
        t,
        await api.request({ method: 'POST', url: '/api/auth/login', payload: { username: 'nobody', password: PASSWORD } }),
        401,
        'invalid-credentials',
      )
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
      t.match((await api.request({ url: '/ready' })).json(), { status: 'ready' })
      const doc = (await api.request({ url: '/docs/json' })).json()
      t.match(doc.openapi, /^3\./)
      for (const path of [
        '/api/projects',
        '/api/projects/{id}',
        '/api/projects/{id}/tasks',
        '/api/tasks',
        '/api/tasks/{id}',
        '/api/admin/users/{id}',
        '/api/auth/login',
        '/api/me',
      ]) {
        t.ok(doc.paths[path], `documents ${path}`)
      }
      t.ok(doc.paths['/api/tasks'].get.parameters.some((p: { name: string }) => p.name === 'ordering'))
      t.equal((await api.request({ url: '/docs' })).statusCode < 400, true)
      assertProblem(t, await api.request({ url: '/api/nothing-here', as: await api.user() }), 404)
    })
  })
}
