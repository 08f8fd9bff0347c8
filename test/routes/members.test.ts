import t from 'tap'
import { assertProblem, startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// Sharing a project: the members API and what each role then may do, through HTTP.

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const owner = await api.user('member')
    const editor = await api.user('member')
    const viewer = await api.user('member')
    const stranger = await api.user('member')
    const auditor = await api.user('auditor')
    const admin = await api.user('admin')
    const as = (user: typeof owner) => ({
      get: (url: string) => api.request({ method: 'GET', url, as: user }),
      post: (url: string, payload: object) => api.request({ method: 'POST', url, as: user, payload }),
      patch: (url: string, payload: object) => api.request({ method: 'PATCH', url, as: user, payload }),
      delete: (url: string) => api.request({ method: 'DELETE', url, as: user }),
    })
    const project = (await as(owner).post('/api/projects', { name: 'Shared' })).json<{ id: number }>()
    const ownTask = (await as(owner).post('/api/tasks', { projectId: project.id, title: 'first' })).json<{ id: number }>()
    const members = `/api/projects/${project.id}/members`

    t.test('the owner shares the project: 201, the member as answered', async (t) => {
      const res = await as(owner).post(members, { username: editor.username, role: 'editor' })
      t.equal(res.statusCode, 201)
      t.match(res.json(), { projectId: project.id, userId: editor.id, username: editor.username, role: 'editor' })
      t.same(Object.keys(res.json()).sort(), ['createdAt', 'id', 'projectId', 'role', 'userId', 'username'])
      t.equal((await as(owner).post(members, { username: viewer.username, role: 'viewer' })).statusCode, 201)
    })

    t.test('bad additions change nothing', async (t) => {
      const before = await api.app.db.projectMember.count()
      const unknown = assertProblem(
        t,
        await as(owner).post(members, { username: 'nobody-at-all', role: 'viewer' }),
        400,
        'invalid-reference',
      )
      t.match(unknown.errors, [{ field: 'username' }])
      assertProblem(t, await as(owner).post(members, { username: editor.username, role: 'viewer' }), 409, 'already-member')
      assertProblem(t, await as(owner).post(members, { username: owner.username, role: 'editor' }), 409, 'owner-not-member')
      assertProblem(t, await as(owner).post(members, { username: stranger.username, role: 'owner' }), 400, 'validation-error')
      assertProblem(t, await as(owner).post(members, { username: stranger.username, role: 'viewer', userId: 1 }), 400)
      // Usernames are one account whatever their case.
      assertProblem(t, await as(owner).post(members, { username: editor.username.toUpperCase(), role: 'viewer' }), 409, 'already-member')
      t.equal(await api.app.db.projectMember.count(), before)
    })

    t.test('who may see the members', async (t) => {
      for (const user of [owner, editor, viewer, auditor, admin]) {
        const res = await as(user).get(members)
        t.equal(res.statusCode, 200, user.username)
        t.same(
          res
            .json<{ items: Array<{ username: string }> }>()
            .items.map((m) => m.username)
            .sort(),
          [editor.username, viewer.username].sort(),
        )
      }
      assertProblem(t, await as(stranger).get(members), 404, 'not-found')
      assertProblem(t, await as(stranger).get(`${members}/${editor.id}`), 404, 'not-found')
      t.equal((await as(viewer).get(`${members}/${editor.id}`)).json<{ role: string }>().role, 'editor')
      assertProblem(t, await as(owner).get(`${members}/${stranger.id}`), 404, 'not-found')
    })

    t.test('lists show owned and shared rows together, and tell them apart', async (t) => {
      const mine = (await as(editor).post('/api/projects', { name: 'Mine' })).json<{ id: number }>()
      const ids = async (url: string) => (await as(editor).get(url)).json<{ items: Array<{ id: number }> }>().items.map((p) => p.id)
      t.same((await ids('/api/projects')).sort(), [project.id, mine.id].sort())
      t.same(await ids('/api/projects?access=owned'), [mine.id])
      t.same(await ids('/api/projects?access=shared'), [project.id])
      t.same(await ids('/api/tasks?access=shared'), [ownTask.id])
      t.same(await ids('/api/tasks?access=owned'), [])
      t.same(await ids(`/api/projects?search=shar&ordering=-name`), [project.id])
      assertProblem(t, await as(editor).get('/api/projects?access=everything'), 400, 'validation-error')
    })

    t.test('editors change tasks, viewers read them, strangers see nothing', async (t) => {
      t.equal((await as(editor).get(`/api/projects/${project.id}`)).statusCode, 200)
      const created = await as(editor).post('/api/tasks', { projectId: project.id, title: 'by the editor' })
      t.equal(created.statusCode, 201)
      const task = created.json<{ id: number }>()
      t.equal((await as(editor).patch(`/api/tasks/${task.id}`, { completed: true })).statusCode, 200)
      t.equal((await as(viewer).get(`/api/tasks/${task.id}`)).statusCode, 200)
      assertProblem(t, await as(viewer).patch(`/api/tasks/${task.id}`, { completed: false }), 403, 'forbidden')
      assertProblem(t, await as(viewer).delete(`/api/tasks/${task.id}`), 403, 'forbidden')
      const refused = assertProblem(t, await as(viewer).post('/api/tasks', { projectId: project.id, title: 'no' }), 403, 'forbidden')
      t.equal(refused.detail, 'You cannot create tasks for this project.')
      assertProblem(t, await as(stranger).get(`/api/tasks/${task.id}`), 404, 'not-found')
      assertProblem(t, await as(stranger).get(`/api/projects/${project.id}`), 404, 'not-found')
      // The project itself stays the owner's.
      assertProblem(t, await as(editor).patch(`/api/projects/${project.id}`, { name: 'taken over' }), 403, 'forbidden')
      assertProblem(t, await as(editor).delete(`/api/projects/${project.id}`), 403, 'forbidden')
      t.equal((await as(editor).delete(`/api/tasks/${task.id}`)).statusCode, 204)
    })

    t.test('moving tasks between own and shared projects', async (t) => {
      const mine = (await as(viewer).post('/api/projects', { name: 'viewer own' })).json<{ id: number }>()
      const task = (await as(viewer).post('/api/tasks', { projectId: mine.id, title: 'stays' })).json<{ id: number }>()
      const refused = assertProblem(t, await as(viewer).patch(`/api/tasks/${task.id}`, { projectId: project.id }), 403, 'forbidden')
      t.equal(refused.detail, 'You cannot move tasks into this project.')
      const editorsOwn = (await as(editor).post('/api/projects', { name: 'editor own' })).json<{ id: number }>()
      const moved = (await as(editor).post('/api/tasks', { projectId: editorsOwn.id, title: 'moves' })).json<{ id: number }>()
      t.equal((await as(editor).patch(`/api/tasks/${moved.id}`, { projectId: project.id })).statusCode, 200)
      t.equal((await as(owner).get(`/api/tasks/${moved.id}`)).statusCode, 200, 'the owner now sees it')
    })

    t.test('only the owner and admins manage members', async (t) => {
      assertProblem(t, await as(editor).post(members, { username: stranger.username, role: 'viewer' }), 403, 'forbidden')
      assertProblem(t, await as(viewer).patch(`${members}/${viewer.id}`, { role: 'editor' }), 403, 'forbidden')
      assertProblem(t, await as(editor).delete(`${members}/${viewer.id}`), 403, 'forbidden')
      assertProblem(t, await as(auditor).patch(`${members}/${viewer.id}`, { role: 'editor' }), 403, 'forbidden')
      assertProblem(t, await as(stranger).delete(`${members}/${viewer.id}`), 404, 'not-found')
      const promoted = await as(owner).patch(`${members}/${viewer.id}`, { role: 'editor' })
      t.equal(promoted.statusCode, 200)
      t.equal(promoted.json<{ role: string }>().role, 'editor')
      t.equal((await as(viewer).patch(`/api/tasks/${ownTask.id}`, { title: 'now allowed' })).statusCode, 200, 'on the next request')
      t.equal((await as(admin).patch(`${members}/${viewer.id}`, { role: 'viewer' })).statusCode, 200)
      assertProblem(t, await as(viewer).patch(`/api/tasks/${ownTask.id}`, { title: 'refused again' }), 403, 'forbidden')
    })

    t.test('a member may leave; a removed member loses access on the next request', async (t) => {
      t.equal((await as(viewer).delete(`${members}/${viewer.id}`)).statusCode, 204)
      assertProblem(t, await as(viewer).get(`/api/projects/${project.id}`), 404, 'not-found')
      assertProblem(t, await as(viewer).get(`/api/tasks/${ownTask.id}`), 404, 'not-found')
      t.equal((await as(owner).delete(`${members}/${editor.id}`)).statusCode, 204)
      assertProblem(t, await as(editor).get(`/api/tasks/${ownTask.id}`), 404, 'not-found')
      assertProblem(t, await as(owner).delete(`${members}/${editor.id}`), 404, 'not-found')
      t.same((await as(owner).get(members)).json<{ total: number }>().total, 0)
    })

    t.test('memberships go with their project and their user', async (t) => {
      const other = (await as(owner).post('/api/projects', { name: 'short-lived' })).json<{ id: number }>()
      await as(owner).post(`/api/projects/${other.id}/members`, { username: stranger.username, role: 'viewer' })
      const leaving = await api.user('member')
      await as(owner).post(`/api/projects/${other.id}/members`, { username: leaving.username, role: 'editor' })
      t.equal(await api.app.db.projectMember.count({ where: { projectId: other.id } }), 2)
      t.equal((await as(admin).delete(`/api/admin/users/${leaving.id}`)).statusCode, 204)
      t.equal(await api.app.db.projectMember.count({ where: { projectId: other.id } }), 1)
      t.equal((await as(owner).delete(`/api/projects/${other.id}`)).statusCode, 204)
      t.equal(await api.app.db.projectMember.count({ where: { projectId: other.id } }), 0)
    })
  })
}
