import t from 'tap'
import { assertProblem, startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const alice = await api.user('member')
    const bob = await api.user('member')

    t.test('create assigns the caller as owner', async (t) => {
      const res = await api.request({
        method: 'POST',
        url: '/api/projects',
        as: alice,
        payload: { name: 'Personal Website', description: 'Build a portfolio website' },
      })
      t.equal(res.statusCode, 201)
      t.match(res.json(), {
        id: Number,
        name: 'Personal Website',
        description: 'Build a portfolio website',
        ownerId: alice.id,
        owner: alice.username,
      })
      t.ok(Date.parse(res.json().createdAt))
    })

    t.test('owner fields in a body are refused and change nothing (mass assignment)', async (t) => {
      for (const field of ['ownerId', 'owner', 'id', 'createdAt']) {
        const before = await api.app.db.project.count()
        const res = await api.request({
          method: 'POST',
          url: '/api/projects',
          as: alice,
          payload: { name: 'x', [field]: field === 'owner' ? bob.username : field === 'createdAt' ? '2000-01-01T00:00:00Z' : bob.id },
        })
        const body = assertProblem(t, res, 400, 'validation-error')
        t.match(body.errors, [{ field, in: 'body' }])
        t.equal(await api.app.db.project.count(), before)
      }
      const own = (await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name: 'mine' } })).json()
      const res = await api.request({ method: 'PATCH', url: `/api/projects/${own.id}`, as: alice, payload: { ownerId: bob.id } })
      assertProblem(t, res, 400)
      t.equal((await api.app.db.project.findUnique({ where: { id: own.id } }))!.ownerId, alice.id)
    })

    t.test('user A sees only project A; B sees only B (the tutorial)', async (t) => {
      const a = (await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name: 'Project A' } })).json()
      const b = (await api.request({ method: 'POST', url: '/api/projects', as: bob, payload: { name: 'Project B' } })).json()
      const listA = (await api.request({ url: '/api/projects?limit=100', as: alice })).json()
      const listB = (await api.request({ url: '/api/projects?limit=100', as: bob })).json()
      t.ok(listA.items.some((p: { id: number }) => p.id === a.id))
      t.notOk(listA.items.some((p: { id: number }) => p.id === b.id))
      t.ok(listA.items.every((p: { ownerId: number }) => p.ownerId === alice.id))
      t.ok(listB.items.every((p: { ownerId: number }) => p.ownerId === bob.id))
      t.equal(listA.total, listA.items.length)
      // Another user's project is answered like a missing one, for every verb.
      assertProblem(t, await api.request({ url: `/api/projects/${b.id}`, as: alice }), 404, 'not-found')
      assertProblem(t, await api.request({ method: 'PATCH', url: `/api/projects/${b.id}`, as: alice, payload: { name: 'mine now' } }), 404)
      assertProblem(t, await api.request({ method: 'DELETE', url: `/api/projects/${b.id}`, as: alice }), 404)
      assertProblem(t, await api.request({ url: `/api/projects/${b.id}/tasks`, as: alice }), 404)
      t.equal((await api.app.db.project.findUnique({ where: { id: b.id } }))!.name, 'Project B')
    })

    t.test('update and delete own project; delete cascades to tasks', async (t) => {
      const p = (await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name: 'to change' } })).json()
      const patched = await api.request({
        method: 'PATCH',
        url: `/api/projects/${p.id}`,
        as: alice,
        payload: { name: 'changed', description: 'd' },
      })
      t.equal(patched.statusCode, 200)
      t.match(patched.json(), { id: p.id, name: 'changed', description: 'd', ownerId: alice.id })
      const task = await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: p.id, title: 'child' } })
      t.equal(task.statusCode, 201)
      const del = await api.request({ method: 'DELETE', url: `/api/projects/${p.id}`, as: alice })
      t.equal(del.statusCode, 204)
      t.equal(del.body, '')
      t.equal(await api.app.db.task.count({ where: { id: task.json().id } }), 0)
      assertProblem(t, await api.request({ url: `/api/projects/${p.id}`, as: alice }), 404)
    })

    t.test('lists: pagination, search, ordering', async (t) => {
      const carol = await api.user('member')
      for (const name of ['Gamma', 'alpha', 'Beta', 'delta 100%', 'Épée']) {
        await api.request({
          method: 'POST',
          url: '/api/projects',
          as: carol,
          payload: { name, description: name === 'Beta' ? 'contains ALPHA too' : '' },
        })
      }
      const all = (await api.request({ url: '/api/projects', as: carol })).json()
      t.equal(all.total, 5)
      t.equal(all.limit, 50)
      t.equal(all.offset, 0)
      t.same(
        all.items.map((p: { name: string }) => p.name),
        ['Gamma', 'alpha', 'Beta', 'delta 100%', 'Épée'],
        'default ordering is id',
      )
      const byIdDesc = (await api.request({ url: '/api/projects?ordering=-id', as: carol })).json()
      t.same(
        byIdDesc.items.map((p: { name: string }) => p.name),
        ['Épée', 'delta 100%', 'Beta', 'alpha', 'Gamma'],
      )
      const dave = await api.user('member')
      for (const name of ['kiwi', 'apple', 'mango'])
        await api.request({ method: 'POST', url: '/api/projects', as: dave, payload: { name } })
      const byName = (await api.request({ url: '/api/projects?ordering=-name', as: dave })).json()
      t.same(
        byName.items.map((p: { name: string }) => p.name),
        ['mango', 'kiwi', 'apple'],
      )
      const byCreated = (await api.request({ url: '/api/projects?ordering=createdAt', as: dave })).json()
      t.same(
        byCreated.items.map((p: { name: string }) => p.name),
        ['kiwi', 'apple', 'mango'],
      )
      const page = (await api.request({ url: '/api/projects?limit=2&offset=1', as: carol })).json()
      t.same(
        page.items.map((p: { name: string }) => p.name),
        ['alpha', 'Beta'],
      )
      t.equal(page.total, 5)
      const search = (await api.request({ url: '/api/projects?search=ALPHA', as: carol })).json()
      t.same(search.items.map((p: { name: string }) => p.name).sort(), ['Beta', 'alpha'])
      const percent = (await api.request({ url: `/api/projects?search=${encodeURIComponent('100%')}`, as: carol })).json()
      t.same(
        percent.items.map((p: { name: string }) => p.name),
        ['delta 100%'],
      )
      const wildcard = (await api.request({ url: `/api/projects?search=${encodeURIComponent('%')}`, as: carol })).json()
      t.same(
        wildcard.items.map((p: { name: string }) => p.name),
        ['delta 100%'],
        '% is a literal, not a wildcard',
      )
      const unicode = (await api.request({ url: `/api/projects?search=${encodeURIComponent('épée')}`, as: carol })).json()
      t.same(
        unicode.items.map((p: { name: string }) => p.name),
        ['Épée'],
      )
    })

    t.test('bad input is a 400 problem, never a 500', async (t) => {
      for (const query of [
        'limit=0',
        'limit=101',
        'limit=1e9',
        'limit=abc',
        'offset=-1',
        'ordering=owner',
        'ordering=passwordHash',
        'search=',
        'unknown=1',
      ]) {
        assertProblem(t, await api.request({ url: `/api/projects?${query}`, as: alice }), 400, 'validation-error')
      }
      for (const id of ['abc', '0', '-1', '1.5', '99999999999']) {
        assertProblem(t, await api.request({ url: `/api/projects/${id}`, as: alice }), 400)
      }
      for (const payload of [{}, { name: '' }, { name: 'x'.repeat(101) }, { name: 5 }, { name: null }, []]) {
        assertProblem(t, await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: payload }), 400)
      }
      assertProblem(
        t,
        await api.request({
          method: 'POST',
          url: '/api/projects',
          as: alice,
          headers: { 'content-type': 'application/json' },
          payload: '{"name":',
        }),
        400,
        'invalid-json',
      )
      assertProblem(
        t,
        await api.request({
          method: 'POST',
          url: '/api/projects',
          as: alice,
          headers: { 'content-type': 'text/plain' },
          payload: 'name=x',
        }),
        415,
      )
      assertProblem(
        t,
        await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name: 'x', description: 'y'.repeat(70_000) } }),
        413,
      )
      assertProblem(t, await api.request({ method: 'PATCH', url: '/api/projects/1', as: alice, payload: {} }), 400)
    })

    t.test('unicode and SQL-looking text is stored and returned verbatim', async (t) => {
      const name = "Robert'); DROP TABLE projects;-- 🚀 ñ 中文"
      const res = await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name, description: '\\x00 %_ $1' } })
      t.equal(res.statusCode, 201)
      const got = (await api.request({ url: `/api/projects/${res.json().id}`, as: alice })).json()
      t.equal(got.name, name)
      t.equal(got.description, '\\x00 %_ $1')
    })
  })
}

t.test('NUL characters are refused with a 400, not a database error', async (t) => {
  const api = await startApp(t, 'pglite')
  const user = await api.user()
  assertProblem(t, await api.request({ url: '/api/projects?search=%00', as: user }), 400, 'validation-error')
  assertProblem(t, await api.request({ url: '/api/tasks?search=a%00b', as: user }), 400, 'validation-error')
  assertProblem(
    t,
    await api.request({ method: 'POST', url: '/api/projects', as: user, payload: { name: 'a\u0000b' } }),
    400,
    'validation-error',
  )
  t.equal(await api.app.db.project.count(), 0)
})
