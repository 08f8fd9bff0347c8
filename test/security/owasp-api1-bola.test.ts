import t from 'tap'
import { assertProblem, startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { documentedRoutes, SAMPLE_BODIES, snapshot } from '../helpers/routes.ts'

// OWASP API1, broken object level authorization: every documented route with an :id, called by a
// member with another member's object, answers 404 (or 403) and changes nothing. Memberships are
// objects too: nobody reads, changes or ends another project's sharing by guessing ids.

const MISSING = 2_000_000_000

for (const engine of engines.slice(-1)) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const alice = await api.user('member')
    const bob = await api.user('member')
    const carol = await api.user('member')
    const dave = await api.user('member')
    const as = (user: typeof alice, method: string, url: string, payload?: object) => api.request({ method, url, as: user, payload })
    const project = (await as(bob, 'POST', '/api/projects', { name: "bob's" })).json()
    const task = (await as(bob, 'POST', '/api/tasks', { projectId: project.id, title: "bob's" })).json()
    const members = (id: number) => `/api/projects/${id}/members`
    t.equal((await as(bob, 'POST', members(project.id), { username: carol.username, role: 'viewer' })).statusCode, 201)
    t.equal((await as(bob, 'POST', members(project.id), { username: dave.username, role: 'editor' })).statusCode, 201)

    const foreign: Record<string, number> = { '/api/projects/': project.id, '/api/tasks/': task.id, '/api/admin/users/': bob.id }
    const routes = (await documentedRoutes(api)).filter((route) => route.path.includes('{id}'))
    t.ok(routes.length >= 13, `${routes.length} object routes`)
    for (const route of routes) {
      const prefix = Object.keys(foreign).find((p) => route.path.startsWith(p))
      t.ok(prefix, `${route.key}: has a foreign object to try`)
      if (!prefix) continue
      const before = await snapshot(api)
      // A membership of the foreign project: carol's.
      const url = route.path.replace('{id}', String(foreign[prefix])).replace('{userId}', String(carol.id))
      const res = await api.request({ method: route.method.toUpperCase(), url, as: alice, payload: SAMPLE_BODIES[route.key] })
      t.ok(res.statusCode === 404 || res.statusCode === 403, `${route.key} with another member's object: ${res.statusCode}`)
      t.equal(await snapshot(api), before, `${route.key}: nothing changed`)
    }

    // Moving one's own task into a foreign project, and explaining a foreign object.
    const own = (await as(alice, 'POST', '/api/projects', { name: 'own' })).json()
    const ownTask = (await as(alice, 'POST', '/api/tasks', { projectId: own.id, title: 'own' })).json()
    t.equal((await as(alice, 'PATCH', `/api/tasks/${ownTask.id}`, { projectId: project.id })).statusCode, 403)
    t.equal((await as(alice, 'POST', '/api/authz/explain', { action: 'read', subject: 'Task', id: task.id })).statusCode, 404)

    t.test('memberships: a stranger guessing ids reads, changes and ends none', async (t) => {
      const before = await snapshot(api)
      assertProblem(t, await as(alice, 'GET', members(project.id)), 404, 'not-found')
      for (const username of [alice.username, carol.username, bob.username]) {
        assertProblem(t, await as(alice, 'POST', members(project.id), { username, role: 'editor' }), 404, 'not-found')
      }
      for (const userId of [carol.id, dave.id, bob.id, alice.id, MISSING]) {
        const url = `${members(project.id)}/${userId}`
        assertProblem(t, await as(alice, 'GET', url), 404, 'not-found')
        assertProblem(t, await as(alice, 'PATCH', url, { role: 'editor' }), 404, 'not-found')
        assertProblem(t, await as(alice, 'DELETE', url), 404, 'not-found')
      }
      // Her own project's id with a member of another project: no such membership, and carol's
      // membership of bob's project is not reached through it.
      for (const userId of [carol.id, dave.id]) {
        const url = `${members(own.id)}/${userId}`
        assertProblem(t, await as(alice, 'GET', url), 404, 'not-found')
        assertProblem(t, await as(alice, 'PATCH', url, { role: 'viewer' }), 404, 'not-found')
        assertProblem(t, await as(alice, 'DELETE', url), 404, 'not-found')
      }
      t.equal(await snapshot(api), before, 'nothing changed')
    })

    t.test('memberships: a viewer of one project manages no sharing, there or elsewhere', async (t) => {
      const second = (await as(bob, 'POST', '/api/projects', { name: "bob's second" })).json()
      t.equal((await as(bob, 'POST', members(second.id), { username: alice.username, role: 'viewer' })).statusCode, 201)
      t.equal((await as(bob, 'POST', members(second.id), { username: carol.username, role: 'editor' })).statusCode, 201)
      const before = await snapshot(api)
      t.equal((await as(alice, 'GET', members(second.id))).statusCode, 200, 'she sees who the project is shared with')
      assertProblem(t, await as(alice, 'PATCH', `${members(second.id)}/${alice.id}`, { role: 'editor' }), 403, 'forbidden')
      assertProblem(t, await as(alice, 'PATCH', `${members(second.id)}/${carol.id}`, { role: 'viewer' }), 403, 'forbidden')
      assertProblem(t, await as(alice, 'DELETE', `${members(second.id)}/${carol.id}`), 403, 'forbidden')
      assertProblem(t, await as(alice, 'POST', members(second.id), { username: dave.username, role: 'editor' }), 403, 'forbidden')
      // Being a member of one of bob's projects opens none of the others.
      assertProblem(t, await as(alice, 'GET', members(project.id)), 404, 'not-found')
      assertProblem(t, await as(alice, 'GET', `${members(project.id)}/${carol.id}`), 404, 'not-found')
      assertProblem(t, await as(alice, 'DELETE', `${members(project.id)}/${carol.id}`), 404, 'not-found')
      assertProblem(t, await as(alice, 'PATCH', `${members(project.id)}/${dave.id}`, { role: 'viewer' }), 404, 'not-found')
      // An editor of a project does not manage its sharing either.
      assertProblem(t, await as(dave, 'DELETE', `${members(project.id)}/${carol.id}`), 403, 'forbidden')
      assertProblem(t, await as(dave, 'PATCH', `${members(project.id)}/${dave.id}`, { role: 'viewer' }), 403, 'forbidden')
      t.equal(await snapshot(api), before, 'nothing changed')
    })
  })
}
