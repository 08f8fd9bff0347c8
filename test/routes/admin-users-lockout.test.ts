import { Writable } from 'node:stream'
import t from 'tap'
import { assertProblem, PASSWORD, secondInstance, startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// Nobody may leave the system without anyone able to manage users and policies: such a change of
// a user is refused like the same change of the policy. ADMIN_USERNAME with the right password
// at startup is the way back for whoever holds the configuration.

function logLines(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { stream, lines }
}

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const role = async (id: number) => (await api.app.db.user.findUnique({ where: { id } }))?.role

    t.test('the last admin cannot demote or delete themselves', async (t) => {
      const admin = await api.user('admin')
      await api.app.db.user.deleteMany({ where: { role: 'admin', id: { not: admin.id } } })
      for (const payload of [{ role: 'member' }, { role: 'auditor' }]) {
        const res = await api.request({ method: 'PATCH', url: `/api/admin/users/${admin.id}`, as: admin, payload })
        const body = assertProblem(t, res, 422, 'policy-lockout')
        t.match(body.detail, /manage/)
      }
      assertProblem(t, await api.request({ method: 'DELETE', url: `/api/admin/users/${admin.id}`, as: admin }), 422, 'policy-lockout')
      t.equal(await role(admin.id), 'admin', 'still an admin')
      t.equal(
        (await api.request({ method: 'PATCH', url: `/api/admin/users/${admin.id}`, as: admin, payload: { role: 'admin' } })).statusCode,
        200,
      )
    })

    t.test('with another admin left, demotion and deletion go through; the last one is refused', async (t) => {
      const first = await api.user('admin')
      const second = await api.user('admin')
      const third = await api.user('admin')
      await api.app.db.user.deleteMany({ where: { role: 'admin', id: { notIn: [first.id, second.id, third.id] } } })
      t.equal(
        (await api.request({ method: 'PATCH', url: `/api/admin/users/${second.id}`, as: first, payload: { role: 'member' } })).statusCode,
        200,
      )
      t.equal((await api.request({ method: 'DELETE', url: `/api/admin/users/${third.id}`, as: first })).statusCode, 204)
      assertProblem(
        t,
        await api.request({ method: 'PATCH', url: `/api/admin/users/${first.id}`, as: first, payload: { role: 'member' } }),
        422,
      )
      t.equal(await role(first.id), 'admin')
    })

    t.test('two admins demoting each other at once: one of them stays', async (t) => {
      const a = await api.user('admin')
      const b = await api.user('admin')
      await api.app.db.user.deleteMany({ where: { role: 'admin', id: { notIn: [a.id, b.id] } } })
      const answers = await Promise.all([
        api.request({ method: 'PATCH', url: `/api/admin/users/${b.id}`, as: a, payload: { role: 'member' } }),
        api.request({ method: 'PATCH', url: `/api/admin/users/${a.id}`, as: b, payload: { role: 'member' } }),
      ])
      const statuses = answers.map((answer) => answer.statusCode).sort()
      // The loser is refused by the lockout check, or by the policy when it ran after its own demotion.
      t.equal(statuses[0], 200)
      t.ok([403, 422].includes(statuses[1]!), `the other refused: ${statuses.join(', ')}`)
      t.equal(await api.app.db.user.count({ where: { role: 'admin' } }), 1)
    })

    t.test('ADMIN_USERNAME with the right password restores the admin role; a wrong one changes nothing', async (t) => {
      const registered = await api.request({
        method: 'POST',
        url: '/api/auth/register',
        payload: { username: `Root_${engine}`, password: PASSWORD },
      })
      t.equal(registered.statusCode, 201)
      const id = registered.json<{ id: number }>().id

      const wrong = logLines()
      await secondInstance(
        t,
        api,
        { bootstrapAdmin: { username: `root_${engine}`, password: 'not the password' } },
        { level: 'info', stream: wrong.stream },
      )
      t.equal(await role(id), 'member', 'a wrong password restores nothing')
      t.ok(
        wrong.lines.some((line) => line.level === 40 && /does not match/.test(String(line.msg))),
        'a warning is logged',
      )

      const right = logLines()
      await secondInstance(
        t,
        api,
        { bootstrapAdmin: { username: `ROOT_${engine}`, password: PASSWORD } },
        { level: 'info', stream: right.stream },
      )
      t.equal(await role(id), 'admin', 'the right password restores the role (the name in any case)')
      t.ok(
        right.lines.some((line) => line.level === 30 && /admin role restored/.test(String(line.msg))),
        'and says so in the log',
      )
      t.equal(
        await api.app.db.user.count({ where: { username: { in: [`Root_${engine}`, `root_${engine}`, `ROOT_${engine}`] } } }),
        1,
        'no second account',
      )
      t.notMatch(JSON.stringify([...wrong.lines, ...right.lines]), /not the password|correct horse/, 'passwords never logged')
    })
  })
}
