import t from 'tap'
import { assertProblem, startApp, type Account, type TestApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

type Rule = {
  id: string
  role: string
  action: string | string[]
  subject: string | string[]
  conditions?: object
  inverted?: boolean
  reason?: string
  fields?: string[]
}
type Row = { role: string; action: string; subject: string; resource: string; expect: string; status: number; note?: string }

async function active(api: TestApp, admin: Account) {
  const res = await api.request({ url: '/api/admin/policies', as: admin })
  return { etag: res.headers.etag as string, ...res.json<{ version: number; rules: Rule[]; table: Row[] }>() }
}

/** Auditors may also update tasks: a deliberate change that flips the auditor × update × Task rows. */
function auditorsUpdateTasks(rules: Rule[]): Rule[] {
  return [
    ...rules,
    { id: 'auditor.update-tasks', role: 'auditor', action: 'update', subject: 'Task', reason: 'Auditors may correct tasks.' },
  ]
}

function tableFor(table: Row[], change: (row: Row) => Row): Row[] {
  return table.map(change)
}

/** The table as it should read once auditors may update tasks (and so move them too). */
const auditorTaskUpdates = (row: Row): Row => {
  if (row.role !== 'auditor' || row.subject !== 'Task' || (row.action !== 'update' && row.action !== 'move')) return row
  if (row.resource !== 'none') return { ...row, expect: 'allow', status: 200 }
  return row.action === 'move' ? { ...row, status: 400 } : row
}

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const admin = await api.user('admin')
    const member = await api.user('member')
    const other = await api.user('member')
    const auditor = await api.user('auditor')
    const ownProject = (await api.request({ method: 'POST', url: '/api/projects', as: member, payload: { name: 'mine' } })).json()
    const otherProject = (await api.request({ method: 'POST', url: '/api/projects', as: other, payload: { name: 'theirs' } })).json()
    const otherTask = (
      await api.request({ method: 'POST', url: '/api/tasks', as: other, payload: { projectId: otherProject.id, title: 'theirs' } })
    ).json()

    t.test('the active version: rules with ids, the table, an ETag; admins only', async (t) => {
      const res = await api.request({ url: '/api/admin/policies', as: admin })
      t.equal(res.statusCode, 200)
      t.equal(res.headers.etag, '"1"')
      const body = res.json()
      t.equal(body.version, 1)
      t.ok(body.rules.find((r: Rule) => r.id === 'member.projects.own' && r.role === 'member'))
      t.equal(body.table.length, 252)
      for (const caller of [member, auditor]) {
        for (const [method, url, payload] of [
          ['GET', '/api/admin/policies'],
          ['GET', '/api/admin/policies/versions'],
          ['GET', '/api/admin/policies/versions/1'],
          ['POST', '/api/admin/policies/validate', { rules: [] }],
          ['PUT', '/api/admin/policies', { rules: [] }],
          ['POST', '/api/admin/policies/rollback', { version: 1 }],
          ['GET', '/api/admin/audit'],
        ] as const) {
          assertProblem(t, await api.request({ method, url, payload, as: caller, headers: { 'if-match': '"1"' } }), 403)
        }
      }
      assertProblem(t, await api.request({ url: '/api/admin/policies' }), 401)
    })

    t.test('validate: errors, table results, flipped rows and impact on live rows; nothing changes', async (t) => {
      const { rules } = await active(api, admin)
      const res = await api.request({
        method: 'POST',
        url: '/api/admin/policies/validate',
        as: admin,
        payload: { rules: auditorsUpdateTasks(rules) },
      })
      t.equal(res.statusCode, 200)
      const report = res.json()
      t.equal(report.valid, true)
      t.same(report.errors, [])
      t.equal(report.table.failed, 9, 'auditors may now update and so move tasks')
      t.same(
        report.flips
          .map(
            (f: { role: string; action: string; subject: string; resource: string }) => `${f.role} ${f.action} ${f.subject} ${f.resource}`,
          )
          .sort(),
        [
          'auditor move Task none',
          'auditor move Task other',
          'auditor move Task own',
          'auditor move Task shared-editor',
          'auditor move Task shared-viewer',
          'auditor update Task other',
          'auditor update Task own',
          'auditor update Task shared-editor',
          'auditor update Task shared-viewer',
        ],
      )
      t.match(
        report.flips.find((f: { action: string; resource: string }) => f.action === 'update' && f.resource === 'own'),
        { before: { allowed: false, status: 403 }, after: { allowed: true, status: 200 } },
      )
      const auditorImpact = report.impact.find((i: { role: string }) => i.role === 'auditor')
      const taskCount = await api.app.db.task.count()
      t.match(auditorImpact, {
        scope: 'role',
        Task: { writable: { gained: taskCount, lost: 0 }, visible: { gained: 0, lost: 0 } },
        Project: { writable: { gained: 0 } },
      })
      t.ok(auditorImpact.Task.writable.gainedExamples.includes(otherTask.id))
      const memberImpact = report.impact.find((i: { role: string }) => i.role === 'member')
      t.match(memberImpact, { scope: 'per-user', Task: { writable: { gained: 0, lost: 0 } } })
      t.equal(report.lockout, null)
      t.same(report.rules, { added: ['auditor.update-tasks'], removed: [], changed: [] })
      t.equal((await active(api, admin)).version, 1, 'still version 1')

      const hides = await api.request({
        method: 'POST',
        url: '/api/admin/policies/validate',
        as: admin,
        payload: { rules: rules.filter((r) => r.id !== 'member.projects.own') },
      })
      const memberHide = hides.json().impact.find((i: { role: string }) => i.role === 'member')
      t.ok(memberHide.Project.visible.lost >= 2, 'members lose sight of their projects')
      t.ok(memberHide.Project.visible.lostExamples.includes(ownProject.id))
    })

    t.test('invalid rules are reported by validate and refused by PUT, naming the rule', async (t) => {
      const { rules, etag } = await active(api, admin)
      const bad = [
        ...rules,
        { id: 'member.bad', role: 'member', action: 'read', subject: 'Task', conditions: { project: { is: { owner: '${user.id}' } } } },
      ]
      const report = (await api.request({ method: 'POST', url: '/api/admin/policies/validate', as: admin, payload: { rules: bad } })).json()
      t.equal(report.valid, false)
      t.match(report.errors, [{ ruleId: 'member.bad', role: 'member', path: 'conditions/project/is/owner' }])
      const put = assertProblem(
        t,
        await api.request({ method: 'PUT', url: '/api/admin/policies', as: admin, headers: { 'if-match': etag }, payload: { rules: bad } }),
        400,
        'policy-invalid',
      )
      t.match(put.detail, /member\.bad/)
      t.match(put.errors, [{ ruleId: 'member.bad', field: 'rules[member.bad].conditions/project/is/owner' }])
      for (const [name, rule] of [
        ['unknown role', { id: 'x', role: 'boss', action: 'read', subject: 'Project' }],
        ['unknown action', { id: 'x', role: 'member', action: 'approve', subject: 'Project' }],
        ['unknown subject', { id: 'x', role: 'member', action: 'read', subject: 'Invoice' }],
        ['unknown field', { id: 'x', role: 'member', action: 'update', subject: 'Project', fields: ['secret'] }],
        ['unknown operator', { id: 'x', role: 'member', action: 'read', subject: 'Project', conditions: { name: { regex: 'a' } } }],
        ['unknown placeholder', { id: 'x', role: 'member', action: 'read', subject: 'Project', conditions: { ownerId: '${user.group}' } }],
        ['type mismatch', { id: 'x', role: 'member', action: 'read', subject: 'Project', conditions: { ownerId: 'alice' } }],
        ['untranslatable', { id: 'x', role: 'member', action: 'read', subject: 'Task', conditions: { project: { ownerId: 1 } } }],
      ] as const) {
        const res = await api.request({
          method: 'PUT',
          url: '/api/admin/policies',
          as: admin,
          headers: { 'if-match': etag },
          payload: { rules: [...rules, rule] },
        })
        const body = assertProblem(t, res, 400, 'policy-invalid')
        t.match(body.errors, [{ ruleId: rule.role === 'boss' ? null : 'x' }], name)
      }
      t.equal((await active(api, admin)).version, 1, 'nothing was activated')
    })

    t.test('PUT: If-Match required and checked; a table failure is refused unless the table is updated', async (t) => {
      const { rules, table, etag } = await active(api, admin)
      const proposal = { rules: auditorsUpdateTasks(rules), message: 'auditors fix tasks' }
      assertProblem(
        t,
        await api.request({ method: 'PUT', url: '/api/admin/policies', as: admin, payload: proposal }),
        428,
        'precondition-required',
      )
      assertProblem(
        t,
        await api.request({ method: 'PUT', url: '/api/admin/policies', as: admin, headers: { 'if-match': '"0"' }, payload: proposal }),
        409,
        'policy-version-conflict',
      )
      const failing = assertProblem(
        t,
        await api.request({ method: 'PUT', url: '/api/admin/policies', as: admin, headers: { 'if-match': etag }, payload: proposal }),
        422,
        'decision-table-failed',
      )
      t.equal(failing.failures.length, 9)
      t.match(
        failing.failures.find((f: { action: string }) => f.action === 'update'),
        { role: 'auditor', action: 'update', subject: 'Task', expect: 'deny', allowed: true, got: 200 },
      )
      const task = (
        await api.request({ method: 'POST', url: '/api/tasks', as: member, payload: { projectId: ownProject.id, title: 'audit me' } })
      ).json()
      assertProblem(t, await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: auditor, payload: { completed: true } }), 403)

      const res = await api.request({
        method: 'PUT',
        url: '/api/admin/policies',
        as: admin,
        headers: { 'if-match': etag },
        payload: { ...proposal, table: tableFor(table, auditorTaskUpdates) },
      })
      t.equal(res.statusCode, 200, res.body.slice(0, 300))
      t.equal(res.headers.etag, '"2"')
      t.equal(res.json().version, 2)
      const patched = await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: auditor, payload: { completed: true } })
      t.equal(patched.statusCode, 200, 'enforced on the next request, no restart')
      t.equal((await api.request({ url: '/api/me', as: auditor })).json().policyVersion, 2)
      const history = (await api.request({ url: '/api/admin/policies/versions', as: admin })).json()
      t.match(history, {
        total: 2,
        items: [
          { version: 2, author: admin.username, message: 'auditors fix tasks' },
          { version: 1, author: 'system' },
        ],
      })
      const v1 = (await api.request({ url: '/api/admin/policies/versions/1', as: admin })).json()
      t.notOk(
        v1.rules.some((r: Rule) => r.id === 'auditor.update-tasks'),
        'versions are immutable',
      )
      assertProblem(t, await api.request({ url: '/api/admin/policies/versions/99', as: admin }), 404)
    })

    t.test('two admins racing from the same version: one wins, one gets 409, nothing is lost', async (t) => {
      const second = await api.user('admin')
      const { rules, table, etag, version } = await active(api, admin)
      const a = {
        rules: [...rules, { id: 'race.a', role: 'member', action: 'read', subject: 'Project', conditions: { ownerId: '${user.id}' } }],
        table,
        message: 'a',
      }
      const b = {
        rules: [...rules, { id: 'race.b', role: 'member', action: 'read', subject: 'Project', conditions: { ownerId: '${user.id}' } }],
        table,
        message: 'b',
      }
      const [ra, rb] = await Promise.all([
        api.request({ method: 'PUT', url: '/api/admin/policies', as: admin, headers: { 'if-match': etag }, payload: a }),
        api.request({ method: 'PUT', url: '/api/admin/policies', as: second, headers: { 'if-match': etag }, payload: b }),
      ])
      t.same([ra.statusCode, rb.statusCode].sort(), [200, 409])
      const loser = ra.statusCode === 409 ? ra : rb
      t.match(loser.json(), { type: /policy-version-conflict$/, currentVersion: version + 1 })
      const now = await active(api, admin)
      t.equal(now.version, version + 1)
      t.equal(now.rules.filter((r) => r.id === 'race.a' || r.id === 'race.b').length, 1, 'exactly one change landed')
      // The loser reloads and re-applies: both changes end up in the policy.
      const retry = await api.request({
        method: 'PUT',
        url: '/api/admin/policies',
        as: admin,
        headers: { 'if-match': now.etag },
        payload: {
          rules: [
            ...now.rules,
            ...(ra.statusCode === 409 ? a : b).rules.filter((r) => r.id.startsWith('race.') && !now.rules.some((n) => n.id === r.id)),
          ],
          table,
        },
      })
      t.equal(retry.statusCode, 200)
      t.equal((await active(api, admin)).rules.filter((r) => r.id.startsWith('race.')).length, 2)
    })

    t.test('a change that locks everyone out of policy or user management is refused', async (t) => {
      const { rules, etag } = await active(api, admin)
      // A table these rules pass, so that the lockout is what refuses them.
      const table = [{ role: 'member', action: 'read', subject: 'Project', resource: 'own', expect: 'allow', status: 200 }]
      const res = await api.request({
        method: 'PUT',
        url: '/api/admin/policies',
        as: admin,
        headers: { 'if-match': etag },
        payload: { rules: rules.filter((r) => r.role !== 'admin'), table },
      })
      t.match(assertProblem(t, res, 422, 'policy-lockout').detail, /manage policies/)
      const report = (
        await api.request({
          method: 'POST',
          url: '/api/admin/policies/validate',
          as: admin,
          payload: { rules: rules.filter((r) => r.role !== 'admin'), table },
        })
      ).json()
      t.match(report.lockout, /manage policies/)
    })

    t.test('rollback activates an old version as a new one', async (t) => {
      const before = await active(api, admin)
      const res = await api.request({ method: 'POST', url: '/api/admin/policies/rollback', as: admin, payload: { version: 1 } })
      t.equal(res.statusCode, 200)
      t.equal(res.json().version, before.version + 1)
      const v1 = (await api.request({ url: '/api/admin/policies/versions/1', as: admin })).json()
      t.same(res.json().rules, v1.rules)
      t.same(res.json().table, v1.table)
      const task = (
        await api.request({ method: 'POST', url: '/api/tasks', as: member, payload: { projectId: ownProject.id, title: 'after rollback' } })
      ).json()
      assertProblem(t, await api.request({ method: 'PATCH', url: `/api/tasks/${task.id}`, as: auditor, payload: { completed: true } }), 403)
      assertProblem(
        t,
        await api.request({ method: 'POST', url: '/api/admin/policies/rollback', as: admin, payload: { version: 999 } }),
        404,
      )
      const history = (await api.request({ url: '/api/admin/policies/versions?limit=1', as: admin })).json()
      t.match(history.items[0], { version: before.version + 1, message: 'Rollback to version 1' })
    })

    t.test('explain names the deciding rule', async (t) => {
      const { version } = await active(api, admin)
      const explain = (as: Account, payload: object) => api.request({ method: 'POST', url: '/api/authz/explain', as, payload })
      const own = await explain(member, { action: 'update', subject: 'Project', id: ownProject.id })
      t.same(own.json(), {
        allowed: true,
        ruleId: 'member.projects.own',
        reason: 'Members manage the projects they own.',
        policyVersion: version,
      })
      assertProblem(t, await explain(member, { action: 'read', subject: 'Project', id: otherProject.id }), 404, 'not-found')
      assertProblem(t, await explain(member, { action: 'read', subject: 'Project', id: 2_000_000_000 }), 404, 'not-found')
      t.match((await explain(auditor, { action: 'delete', subject: 'Task', id: otherTask.id })).json(), {
        allowed: false,
        ruleId: null,
        reason: /denied by default/,
      })
      t.match((await explain(admin, { action: 'delete', subject: 'Project', id: otherProject.id, userId: member.id })).json(), {
        allowed: false,
        ruleId: null,
        reason: /denied by default/,
      })
      t.match((await explain(admin, { action: 'delete', subject: 'Project', id: otherProject.id, userId: other.id })).json(), {
        allowed: true,
        ruleId: 'member.projects.own',
      })
      t.match((await explain(admin, { action: 'delete', subject: 'User', id: member.id })).json(), {
        allowed: true,
        ruleId: 'admin.manage-all',
      })
      assertProblem(t, await explain(member, { action: 'read', subject: 'Project', id: ownProject.id, userId: other.id }), 403)
      assertProblem(t, await explain(member, { action: 'fly', subject: 'Project', id: 1 }), 400)

      // A membership, by its id: the owner manages it, the member may leave but not change it.
      const membership = await api.app.db.projectMember.create({ data: { projectId: ownProject.id, userId: other.id, role: 'viewer' } })
      const aboutMembership = (action: string) => ({ action, subject: 'ProjectMember', id: membership.id })
      t.match((await explain(member, aboutMembership('delete'))).json(), { allowed: true, ruleId: 'member.members.of-own-projects' })
      t.match((await explain(other, aboutMembership('delete'))).json(), { allowed: true, ruleId: 'member.members.leave' })
      t.match((await explain(other, aboutMembership('update'))).json(), { allowed: false, ruleId: null, reason: /denied by default/ })
      t.match((await explain(auditor, aboutMembership('read'))).json(), { allowed: true, ruleId: 'auditor.read-members' })
      t.match((await explain(admin, { ...aboutMembership('update'), userId: other.id })).json(), { allowed: false, ruleId: null })
      const stranger = await api.user('member')
      assertProblem(t, await explain(stranger, aboutMembership('read')), 404, 'not-found')
      await api.app.db.projectMember.delete({ where: { id: membership.id } })
    })

    t.test('the audit log records policy changes and denied requests', async (t) => {
      const denied = await api.request({
        method: 'POST',
        url: '/api/tasks',
        as: member,
        payload: { projectId: otherProject.id, title: 'nope' },
        headers: { 'x-request-id': 'req-denied-1' },
      })
      t.equal(denied.statusCode, 403)
      const probe = await api.request({ url: `/api/tasks/${otherTask.id}`, as: member })
      t.equal(probe.statusCode, 404)
      const changes = (await api.request({ url: '/api/admin/audit?kind=policy.activate', as: admin })).json()
      t.ok(changes.total >= 2)
      t.match(changes.items.at(-1), {
        kind: 'policy.activate',
        userId: admin.id,
        username: admin.username,
        policyVersion: 2,
        detail: { basedOn: 1, message: 'auditors fix tasks', rules: { added: ['auditor.update-tasks'] }, tableChanged: true, flips: 9 },
      })
      t.match((await api.request({ url: '/api/admin/audit?kind=policy.rollback', as: admin })).json(), {
        total: 1,
        items: [{ detail: { message: 'Rollback to version 1' } }],
      })
      const denials = (await api.request({ url: `/api/admin/audit?kind=request.denied&userId=${member.id}`, as: admin })).json()
      const create = denials.items.find((e: { requestId: string }) => e.requestId === 'req-denied-1')
      t.match(create, {
        userId: member.id,
        action: 'create',
        subject: 'Task',
        ruleId: null,
        status: 403,
        policyVersion: Number,
        detail: { reason: 'You cannot create tasks for this project.' },
      })
      t.ok(
        denials.items.some(
          (e: { action: string; objectId: number; status: number }) =>
            e.action === 'read' && e.objectId === otherTask.id && e.status === 404,
        ),
        'a probe of a hidden object is recorded',
      )
      const page = (await api.request({ url: '/api/admin/audit?limit=1&offset=1&ordering=createdAt', as: admin })).json()
      t.equal(page.items.length, 1)
      assertProblem(t, await api.request({ url: '/api/admin/audit?kind=nope', as: admin }), 400)
      assertProblem(t, await api.request({ url: '/api/admin/audit?from=yesterday', as: admin }), 400)
    })
  })
}
