import t from 'tap'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { documentedRoutes, SAMPLE_BODIES, snapshot } from '../helpers/routes.ts'

// OWASP API1, broken object level authorization: every documented route with an :id, called by a
// member with another member's object, answers 404 (or 403) and changes nothing.

for (const engine of engines.slice(-1)) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const alice = await api.user('member')
    const bob = await api.user('member')
    const project = (await api.request({ method: 'POST', url: '/api/projects', as: bob, payload: { name: "bob's" } })).json()
    const task = (
      await api.request({ method: 'POST', url: '/api/tasks', as: bob, payload: { projectId: project.id, title: "bob's" } })
    ).json()
    const foreign: Record<string, number> = { '/api/projects/': project.id, '/api/tasks/': task.id, '/api/admin/users/': bob.id }
    const routes = (await documentedRoutes(api)).filter((route) => route.path.includes('{id}'))
    t.ok(routes.length >= 8, `${routes.length} object routes`)
    for (const route of routes) {
      const prefix = Object.keys(foreign).find((p) => route.path.startsWith(p))
      t.ok(prefix, `${route.key}: has a foreign object to try`)
      if (!prefix) continue
      const before = await snapshot(api)
      const url = route.path.replace('{id}', String(foreign[prefix]))
      const res = await api.request({ method: route.method.toUpperCase(), url, as: alice, payload: SAMPLE_BODIES[route.key] })
      t.ok(res.statusCode === 404 || res.statusCode === 403, `${route.key} with another member's object: ${res.statusCode}`)
      t.equal(await snapshot(api), before, `${route.key}: nothing changed`)
    }
    // Moving one's own task into a foreign project, and explaining a foreign object.
    const own = (await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name: 'own' } })).json()
    const ownTask = (
      await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: own.id, title: 'own' } })
    ).json()
    t.equal(
      (await api.request({ method: 'PATCH', url: `/api/tasks/${ownTask.id}`, as: alice, payload: { projectId: project.id } })).statusCode,
      403,
    )
    t.equal(
      (
        await api.request({
          method: 'POST',
          url: '/api/authz/explain',
          as: alice,
          payload: { action: 'read', subject: 'Task', id: task.id },
        })
      ).statusCode,
      404,
    )
  })
}
