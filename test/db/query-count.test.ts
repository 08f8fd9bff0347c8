import t from 'tap'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { countingDriver } from '../helpers/query-counter.ts'

// SQL statements per request, so an N+1 can never creep in. Every /api request also reads the
// caller's account (1 statement: roles take effect at once); that one is counted apart.

for (const engine of engines) {
  t.test(engine, async (t) => {
    let counter: ReturnType<typeof countingDriver> | undefined
    const api = await startApp(t, engine, {}, (driver) => (counter = countingDriver(driver)))
    const alice = await api.user('member')
    const project = (await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name: 'p' } })).json()
    for (let i = 0; i < 30; i++)
      await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: project.id, title: `t${i}` } })
    const task = (
      await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: project.id, title: 'x' } })
    ).json()

    const cases: Array<[string, Parameters<typeof api.request>[0], number, number]> = [
      // name, request, statements beyond authentication, transactions (each adds BEGIN + COMMIT).
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
      // Authentication runs first (onRequest), before any route code.
      t.match(queries[0], /^SELECT [^;]* FROM "public"\."users" AS "t0" WHERE \("t0"\."id" = \$1/, `${name}: authentication lookup first`)
      const rest = queries.slice(1)
      t.ok(rest.length <= statements, `${name}: ${rest.length} statement(s) ≤ ${statements}\n  ${rest.join('\n  ')}`)
      t.ok(counter!.count.transactions <= control, `${name}: ${counter!.count.transactions} transaction(s) ≤ ${control}`)
    }
  })
}
