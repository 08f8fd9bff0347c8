import t from 'tap'
import { assertProblem, startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const alice = await api.user('member')
    const bob = await api.user('member')
    const project = async (owner: typeof alice, name = 'p') =>
      (await api.request({ method: 'POST', url: '/api/projects', as: owner, payload: { name } })).json()
    const a = await project(alice, 'A')
    const a2 = await project(alice, 'A2')
    const b = await project(bob, 'B')

    t.test('create in own project; JSON shape', async (t) => {
      const res = await api.request({
        method: 'POST',
        url: '/api/tasks',
        as: alice,
        payload: { projectId: a.id, title: 'Write tests', description: 'all of them' },
      })
      t.equal(res.statusCode, 201)
      t.same(Object.keys(res.json()).sort(), ['completed', 'createdAt', 'description', 'id', 'projectId', 'title'])
      t.match(res.json(), { projectId: a.id, title: 'Write tests', description: 'all of them', completed: false })
    })

    t.test("the tutorial's refusal: a task in another user's project", async (t) => {
      const before = await api.app.db.task.count()
      const res = await api.request({
        method: 'POST',
        url: '/api/tasks',
        as: alice,
        payload: { projectId: b.id, title: 'Unauthorized task', description: 'This project may belong to another user', completed: false },
      })
      const body = assertProblem(t, res, 403, 'forbidden')
      t.equal(body.detail, 'You cannot create tasks for this project.')
      t.equal(body.ruleId, null, 'no rule allowed it: default deny')
      t.equal(await api.app.db.task.count(), before)
      const missing = assertProblem(
        t,
        await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: 2_000_000_000, title: 'x' } }),
        400,
      )
      t.match(missing.errors, [{ field: 'projectId' }])
    })

    t.test('moving a task: within own projects yes, into somebody else’s no (the hole the tutorial left)', async (t) => {
      const task = (
        await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: a.id, title: 'movable' } })
      ).json()
      const moved = await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: alice, payload: { projectId: a2.id } })
      t.equal(moved.statusCode, 200)
      t.equal(moved.json().projectId, a2.id)
      const res = await api.request({
        method: 'PATCH',
        url: `/api/tasks/${task.id}`,
        as: alice,
        payload: { projectId: b.id, title: 'hijacked' },
      })
      t.equal(assertProblem(t, res, 403).detail, 'You cannot move tasks into this project.')
      t.match(await api.app.db.task.findUnique({ where: { id: task.id } }), { projectId: a2.id, title: 'movable' }, 'nothing changed')
      // Bob cannot pull Alice's task into his project either: he cannot even see it.
      assertProblem(t, await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: bob, payload: { projectId: b.id } }), 404)
    })

    t.test("another user's task is answered like a missing one", async (t) => {
      const bobs = (await api.request({ method: 'POST', url: '/api/tasks', as: bob, payload: { projectId: b.id, title: 'secret' } })).json()
      for (const [method, payload] of [['GET'], ['PATCH', { completed: true }], ['DELETE']] as const) {
        assertProblem(t, await api.request({ method, url: `/api/tasks/${bobs.id}`, as: alice, payload }), 404, 'not-found')
      }
      t.match(await api.app.db.task.findUnique({ where: { id: bobs.id } }), { completed: false })
      const list = (await api.request({ url: '/api/tasks?limit=100', as: alice })).json()
      t.notOk(list.items.some((x: { id: number }) => x.id === bobs.id))
      const filtered = (await api.request({ url: `/api/tasks?projectId=${b.id}`, as: alice })).json()
      t.same(filtered, { items: [], total: 0, limit: 50, offset: 0 }, 'filtering on a foreign project shows nothing')
    })

    t.test('update, complete, delete own task', async (t) => {
      const task = (await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: a.id, title: 'todo' } })).json()
      const done = await api.request({
        method: 'PATCH',
        url: `/api/tasks/${task.id}`,
        as: alice,
        payload: { completed: true, title: 'done' },
      })
      t.match(done.json(), { completed: true, title: 'done', projectId: a.id })
      t.equal((await api.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: alice })).statusCode, 204)
      assertProblem(t, await api.request({ url: `/api/tasks/${task.id}`, as: alice }), 404)
    })

    t.test('lists: filters, search, ordering, nested route', async (t) => {
      const carol = await api.user('member')
      const c1 = await project(carol, 'c1')
      const c2 = await project(carol, 'c2')
      const make = (projectId: number, title: string, completed = false) =>
        api.request({ method: 'POST', url: '/api/tasks', as: carol, payload: { projectId, title, completed } })
      await make(c1.id, 'buy milk')
      await make(c1.id, 'Call Bob', true)
      await make(c2.id, 'milkshake', true)
      await make(c2.id, 'zebra')
      const get = async (query: string) => (await api.request({ url: `/api/tasks?${query}`, as: carol })).json()
      t.equal((await get('')).total, 4)
      t.same(
        (await get('completed=true')).items.map((x: { title: string }) => x.title),
        ['Call Bob', 'milkshake'],
      )
      t.same(
        (await get('completed=false&ordering=-title')).items.map((x: { title: string }) => x.title),
        ['zebra', 'buy milk'],
      )
      t.same(
        (await get(`projectId=${c2.id}`)).items.map((x: { title: string }) => x.title),
        ['milkshake', 'zebra'],
      )
      t.same(
        (await get('search=MILK')).items.map((x: { title: string }) => x.title),
        ['buy milk', 'milkshake'],
      )
      t.same(
        (await get('ordering=completed&limit=1&offset=3')).items.map((x: { title: string }) => x.title),
        ['milkshake'],
      )
      const nested = (await api.request({ url: `/api/projects/${c1.id}/tasks?ordering=-id`, as: carol })).json()
      t.same(
        nested.items.map((x: { title: string }) => x.title),
        ['Call Bob', 'buy milk'],
      )
      t.equal(nested.total, 2)
      for (const query of ['completed=maybe', 'projectId=abc', 'projectId=0', 'ordering=description', 'limit=-5']) {
        assertProblem(t, await api.request({ url: `/api/tasks?${query}`, as: carol }), 400, 'validation-error')
      }
    })

    t.test('bad bodies are 400 and change nothing', async (t) => {
      const before = await api.app.db.task.count()
      for (const payload of [
        { title: 'no project' },
        { projectId: a.id },
        { projectId: a.id, title: 'x'.repeat(101) },
        { projectId: 'one', title: 'x' },
        { projectId: a.id, title: 'x', completed: 'yes' },
        { projectId: a.id, title: 'x', id: 5 },
      ]) {
        assertProblem(t, await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload }), 400)
      }
      t.equal(await api.app.db.task.count(), before)
    })

    t.test('auditors read everything and change nothing', async (t) => {
      const auditor = await api.user('auditor')
      const task = (
        await api.request({ method: 'POST', url: '/api/tasks', as: bob, payload: { projectId: b.id, title: 'audited' } })
      ).json()
      t.equal((await api.request({ url: `/api/tasks/${task.id}`, as: auditor })).statusCode, 200)
      const all = (await api.request({ url: '/api/tasks?limit=100', as: auditor })).json()
      t.equal(all.total, await api.app.db.task.count())
      const denied = assertProblem(
        t,
        await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: auditor, payload: { completed: true } }),
        403,
      )
      t.equal(denied.detail, 'You cannot update this task.')
      assertProblem(t, await api.request({ method: 'DELETE', url: `/api/tasks/${task.id}`, as: auditor }), 403)
    })
  })
}
