import t from 'tap'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { documentedRoutes, SAMPLE_BODIES, snapshot } from '../helpers/routes.ts'

// OWASP API3, broken object property level authorization: every documented write route refuses
// server-owned fields (400 naming the field, nothing written), and no response anywhere carries a
// password hash.

const SERVER_OWNED = {
  ownerId: 1,
  owner: 'someone',
  id: 99,
  createdAt: '2000-01-01T00:00:00Z',
  role: 'admin',
  passwordHash: 'x',
  isAdmin: true,
}

for (const engine of engines.slice(-1)) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const admin = await api.user('admin')
    const project = (await api.request({ method: 'POST', url: '/api/projects', as: admin, payload: { name: 'p' } })).json()
    const task = (
      await api.request({ method: 'POST', url: '/api/tasks', as: admin, payload: { projectId: project.id, title: 't' } })
    ).json()
    const ids: Record<string, number> = { '/api/projects/': project.id, '/api/tasks/': task.id, '/api/admin/users/': admin.id }
    const routes = (await documentedRoutes(api)).filter(
      (route) => route.method === 'post' || route.method === 'patch' || route.method === 'put',
    )
    for (const route of routes) {
      const sample = SAMPLE_BODIES[route.key]
      t.ok(sample, `${route.key}: has a sample body`)
      if (!sample) continue
      const prefix = Object.keys(ids).find((p) => route.path.startsWith(p))
      const url = (prefix ? route.path.replace('{id}', String(ids[prefix])) : route.path).replace('{userId}', String(admin.id))
      for (const [field, value] of Object.entries(SERVER_OWNED)) {
        if (field in sample) continue
        const body = { ...sample, ...(route.key === 'post /api/tasks' ? { projectId: project.id } : {}), [field]: value }
        const before = await snapshot(api)
        const res = await api.request({
          method: route.method.toUpperCase(),
          url,
          as: admin,
          payload: body,
          headers: { 'if-match': '"1"' },
        })
        t.equal(res.statusCode, 400, `${route.key} with ${field}`)
        t.match(res.json().errors, [{ field }], `${route.key}: names ${field}`)
        t.equal(await snapshot(api), before, `${route.key} with ${field}: nothing written`)
      }
    }
    // No answer of any read route carries a password hash.
    for (const url of ['/api/me', '/api/admin/users', `/api/admin/users/${admin.id}`, '/api/admin/audit', '/api/projects']) {
      const res = await api.request({ url, as: admin })
      t.equal(res.statusCode, 200, url)
      t.notMatch(res.body, /passwordHash|password_hash|scrypt\$/, `${url}: no password hash`)
    }
  })
}
