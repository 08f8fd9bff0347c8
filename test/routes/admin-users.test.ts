import t from 'tap'
import { assertProblem, startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const admin = await api.user('admin')

    t.test('list users without password hashes', async (t) => {
      const res = await api.request({ url: '/api/admin/users?ordering=-id&limit=100', as: admin })
      t.equal(res.statusCode, 200)
      t.notMatch(res.body, /passwordHash|password_hash|scrypt/)
      t.same(Object.keys(res.json().items[0]).sort(), ['createdAt', 'id', 'role', 'username'])
      const search = (await api.request({ url: `/api/admin/users?search=${admin.username}`, as: admin })).json()
      t.same(
        search.items.map((u: { id: number }) => u.id),
        [admin.id],
      )
    })

    t.test('members and auditors are refused every admin route', async (t) => {
      for (const role of ['member', 'auditor']) {
        const caller = await api.user(role)
        const victim = await api.user('member')
        for (const [method, url, payload] of [
          ['GET', '/api/admin/users'],
          ['GET', `/api/admin/users/${victim.id}`],
          ['PATCH', `/api/admin/users/${victim.id}`, { role: 'admin' }],
          ['PATCH', `/api/admin/users/${caller.id}`, { role: 'admin' }],
          ['DELETE', `/api/admin/users/${victim.id}`],
        ] as const) {
          assertProblem(t, await api.request({ method, url, payload, as: caller }), 403, 'forbidden')
        }
        t.match(await api.app.db.user.findUnique({ where: { id: caller.id } }), { role })
        t.ok(await api.app.db.user.findUnique({ where: { id: victim.id } }))
      }
    })

    t.test('change a role: effective on the next request', async (t) => {
      const user = await api.user('member')
      t.equal((await api.request({ url: '/api/admin/users', as: user })).statusCode, 403)
      const res = await api.request({ method: 'PATCH', url: `/api/admin/users/${user.id}`, as: admin, payload: { role: 'auditor' } })
      t.equal(res.statusCode, 200)
      t.match(res.json(), { id: user.id, role: 'auditor' })
      const me = (await api.request({ url: '/api/me', as: user })).json()
      t.equal(me.role, 'auditor')
      assertProblem(
        t,
        await api.request({ method: 'PATCH', url: `/api/admin/users/${user.id}`, as: admin, payload: { role: 'superuser' } }),
        400,
        'validation-error',
      )
      assertProblem(
        t,
        await api.request({ method: 'PATCH', url: `/api/admin/users/${user.id}`, as: admin, payload: { role: 'admin', username: 'x' } }),
        400,
      )
      assertProblem(
        t,
        await api.request({ method: 'PATCH', url: '/api/admin/users/2000000000', as: admin, payload: { role: 'admin' } }),
        404,
        'not-found',
      )
      t.match(await api.app.db.user.findUnique({ where: { id: user.id } }), { role: 'auditor' })
    })

    t.test('delete a user: projects and tasks go, tokens stop working', async (t) => {
      const user = await api.user('member')
      const p = (await api.request({ method: 'POST', url: '/api/projects', as: user, payload: { name: 'doomed' } })).json()
      const task = (
        await api.request({ method: 'POST', url: '/api/tasks', as: user, payload: { projectId: p.id, title: 'doomed' } })
      ).json()
      t.equal((await api.request({ method: 'DELETE', url: `/api/admin/users/${user.id}`, as: admin })).statusCode, 204)
      t.equal(await api.app.db.project.count({ where: { id: p.id } }), 0)
      t.equal(await api.app.db.task.count({ where: { id: task.id } }), 0)
      assertProblem(t, await api.request({ url: '/api/me', as: user }), 401)
      assertProblem(t, await api.request({ method: 'DELETE', url: `/api/admin/users/${user.id}`, as: admin }), 404)
    })
  })
}
