import t from 'tap'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// The check of a task's parent and the write share one transaction: racing a create or a move
// against the deletion of the target project never leaves a task in a project that is gone or
// foreign, and never answers 5xx.

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const alice = await api.user('member')
    const bob = await api.user('member')
    const admin = await api.user('admin')
    const statuses = new Map<number, number>()
    const seen = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1)

    for (let round = 0; round < 15; round++) {
      const target = (await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name: `target ${round}` } })).json()
      const home = (await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name: `home ${round}` } })).json()
      const task = (
        await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: home.id, title: 'mover' } })
      ).json()
      const results = await Promise.all([
        api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: target.id, title: 'racer' } }),
        api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: alice, payload: { projectId: target.id } }),
        // Bob tries to slip a task into Alice's project while an admin deletes it.
        api.request({ method: 'POST', url: '/api/tasks', as: bob, payload: { projectId: target.id, title: 'intruder' } }),
        api.request({ method: 'DELETE', url: `/api/projects/${target.id}`, as: admin }),
      ])
      for (const res of results) {
        seen(res.statusCode)
        t.ok(res.statusCode < 500, `round ${round}: ${res.statusCode} ${res.body.slice(0, 120)}`)
      }
      t.equal(results[2].statusCode === 201, false, 'Bob never creates a task in a project he does not own')
    }
    // Every task left sits in an existing project owned by the user who may manage it.
    const orphans = await api.app.db.task.count({ where: { project: { is: { ownerId: { notIn: [alice.id] } } } } })
    t.equal(orphans, 0, 'no task in a foreign project')
    t.equal(await api.app.db.task.count({ where: { title: 'intruder' } }), 0)
    // Each racer may win or lose the race, but only with these answers.
    const expected = new Set([201, 200, 204, 400, 403, 404, 409])
    t.same(
      [...statuses.keys()].filter((status) => !expected.has(status)),
      [],
      `statuses seen: ${JSON.stringify(Object.fromEntries(statuses))}`,
    )
  })
}
