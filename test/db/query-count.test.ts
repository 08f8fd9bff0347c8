import t from 'tap'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { ACCOUNT_LOOKUP, countingDriver } from '../helpers/query-counter.ts'

// SQL statements per request, so an N+1 can never creep in. A caller's first /api request reads
// their account (1 statement); later ones take it from the account cache, which still sees every
// change at once (test/auth/account-cache.test.ts).

for (const engine of engines) {
  t.test(engine, async (t) => {
    let counter: ReturnType<typeof countingDriver> | undefined
    const api = await startApp(t, engine, {}, (driver) => (counter = countingDriver(driver)))

    // Authentication runs first (onRequest), before any route code.
    const bob = await api.user('member')
    counter!.reset()
    await api.request({ url: '/api/projects', as: bob })
    const first = [...counter!.count.queries]
    counter!.reset()
    await api.request({ url: '/api/projects', as: bob })
    const second = [...counter!.count.queries]
    const lookup = first[0]!
    t.match(lookup, ACCOUNT_LOOKUP, "a caller's first request reads their account first")
    t.same(second, first.slice(1), 'the second request sends the same statements but that one')

    const alice = await api.user('member')
    const project = (await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name: 'p' } })).json()
    for (let i = 0; i < 30; i++)
      await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: project.id, title: `t${i}` } })
    const task = (
      await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: project.id, title: 'x' } })
    ).json()

    const cases: Array<[string, Parameters<typeof api.request>[0], number, number]> = [
      // name, request, statements, transactions (each adds BEGIN + COMMIT).
      // A member reads owned OR shared rows: the keys of each side, then the page (Authorizer.list).
      ['list projects', { url: '/api/projects' }, 3, 0],
      ['list tasks (31 rows)', { url: '/api/tasks?limit=100' }, 3, 0],
      ['list tasks of a project, search and ordering', { url: `/api/projects/${project.id}/tasks?search=t1&ordering=-title` }, 4, 0],
      ['list the members of a project', { url: `/api/projects/${project.id}/members` }, 4, 0],
      ['get a project', { url: `/api/projects/${project.id}` }, 1, 0],
      ['get a task', { url: `/api/tasks/${task.id}` }, 1, 0],
      [
        'create a project (insert, then the owner for the response)',
        { method: 'POST', url: '/api/projects', payload: { name: 'q' } },
        2,
        1,
      ],
      ['create a task', { method: 'POST', url: '/api/tasks', payload: { projectId: project.id, title: 'y' } }, 2, 1],
      ['patch a task', { method: 'PATCH', url: `/api/tasks/${task.id}`, payload: { completed: true } }, 2, 1],
    ]
    for (const [name, request, statements, control] of cases) {
      counter!.reset()
      const res = await api.request({ ...request, as: alice })
      t.ok(res.statusCode < 300, `${name}: ${res.statusCode}`)
      const queries = counter!.count.queries
      t.notOk(queries.includes(lookup), `${name}: the account comes from the cache`)
      t.ok(queries.length <= statements, `${name}: ${queries.length} statement(s) ≤ ${statements}\n  ${queries.join('\n  ')}`)
      t.ok(counter!.count.transactions <= control, `${name}: ${counter!.count.transactions} transaction(s) ≤ ${control}`)
    }
  })
}
