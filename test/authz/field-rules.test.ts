import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { assertProblem, startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// Field-level rules: a field the role may not write is refused with 403 naming the field, and
// nothing is written; an inverted rule takes precedence over a broader allow.

const policiesDir = mkdtempSync(join(tmpdir(), 'field-policies-'))
writeFileSync(
  join(policiesDir, 'rules.json'),
  JSON.stringify({
    member: [
      { id: 'member.projects.read', action: ['read', 'create'], subject: 'Project', conditions: { ownerId: '${user.id}' } },
      {
        id: 'member.projects.describe',
        action: 'update',
        subject: 'Project',
        fields: ['description'],
        conditions: { ownerId: '${user.id}' },
      },
      { id: 'member.tasks', action: 'manage', subject: 'Task', conditions: { project: { is: { ownerId: '${user.id}' } } } },
      {
        id: 'member.tasks.no-reopen',
        action: 'update',
        subject: 'Task',
        fields: ['completed'],
        inverted: true,
        conditions: { completed: true },
        reason: 'Completed tasks stay completed.',
      },
    ],
    admin: [{ id: 'admin.all', action: 'manage', subject: 'all' }],
  }),
)

// This policy is not meant to pass the shipped table; its own has one row (a table needs one).
writeFileSync(
  join(policiesDir, 'decision-table.md'),
  '| role | action | subject | resource | expect | status |\n|---|---|---|---|---|---|\n| member | update | Project | own | deny | 403 |\n',
)

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine, { policiesDir })
    const alice = await api.user('member')
    const project = (await api.request({ method: 'POST', url: '/api/projects', as: alice, payload: { name: 'fixed name' } })).json()

    t.test('a permitted field is written', async (t) => {
      const res = await api.request({ method: 'PATCH', url: `/api/projects/${project.id}`, as: alice, payload: { description: 'ok' } })
      t.equal(res.statusCode, 200)
      t.equal(res.json().description, 'ok')
    })

    t.test('a field outside the rule is a 403 naming it, and nothing changes', async (t) => {
      const res = await api.request({
        method: 'PATCH',
        url: `/api/projects/${project.id}`,
        as: alice,
        payload: { description: 'also', name: 'renamed' },
      })
      const body = assertProblem(t, res, 403, 'forbidden')
      t.match(body.detail, /field "name"/)
      t.match(body.errors, [{ field: 'name' }])
      t.match(await api.app.db.project.findUnique({ where: { id: project.id } }), { name: 'fixed name', description: 'ok' })
    })

    t.test('an inverted rule wins and is named as the deciding rule', async (t) => {
      const task = (
        await api.request({ method: 'POST', url: '/api/tasks', as: alice, payload: { projectId: project.id, title: 't', completed: true } })
      ).json()
      const res = await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: alice, payload: { completed: false } })
      const body = assertProblem(t, res, 403)
      t.equal(body.ruleId, 'member.tasks.no-reopen')
      t.equal(body.detail, 'Completed tasks stay completed.', "the rule's reason")
      t.equal(
        (await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: alice, payload: { title: 'renamed' } })).statusCode,
        200,
      )
      t.match(await api.app.db.task.findUnique({ where: { id: task.id } }), { completed: true, title: 'renamed' })
    })
  })
}
