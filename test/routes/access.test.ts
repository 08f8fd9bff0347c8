import t from 'tap'
import { assertProblem, startApp, type Account } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// Who may reach a project, and what a user may reach, through HTTP: who may ask, the shape of
// the answers, role-wide entries, paging and the rule ids. Exactness against brute force is
// test/authz/access.test.ts.

interface Grants {
  read?: string
  update?: string
  delete?: string
  createTask?: string
}
interface RoleEntry {
  role: string
  method: string
  count: number
  grants: Grants
  listed: number
}
interface Answer {
  projectId: number
  policyVersion: number
  roles: RoleEntry[]
  users: { items: Array<{ userId: number; username: string; role: string; grants: Grants }>; total: number; limit: number; offset: number }
}
interface Reach {
  subject: string
  action: string
  count: number
  ids: number[]
  rules: Array<{ ruleId: string | null; count: number }>
}
interface UserAnswer {
  user: { id: number; username: string; role: string }
  policyVersion: number
  limit: number
  offset: number
  reach: Reach[]
}

const ALL = { read: 'admin.manage-all', update: 'admin.manage-all', delete: 'admin.manage-all', createTask: 'admin.manage-all' }
const OWNER = {
  read: 'member.projects.own',
  update: 'member.projects.own',
  delete: 'member.projects.own',
  createTask: 'member.tasks.in-own-projects',
}

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const owner = await api.user('member')
    const editor = await api.user('member')
    const viewer = await api.user('member')
    const stranger = await api.user('member')
    const auditors = [await api.user('auditor'), await api.user('auditor')]
    const admin = await api.user('admin')
    const get = (url: string, as: Account) => api.request({ method: 'GET', url, as })
    const post = (url: string, as: Account, payload: object) => api.request({ method: 'POST', url, as, payload })

    const project = (await post('/api/projects', owner, { name: 'Shared' })).json<{ id: number }>()
    await post(`/api/projects/${project.id}/members`, owner, { username: editor.username, role: 'editor' })
    await post(`/api/projects/${project.id}/members`, owner, { username: viewer.username, role: 'viewer' })
    const editorsOwn = (await post('/api/projects', editor, { name: 'Editor own' })).json<{ id: number }>()
    const tasks = [
      (await post('/api/tasks', owner, { projectId: project.id, title: 'one' })).json<{ id: number }>(),
      (await post('/api/tasks', editor, { projectId: project.id, title: 'two' })).json<{ id: number }>(),
      (await post('/api/tasks', editor, { projectId: editorsOwn.id, title: 'three' })).json<{ id: number }>(),
    ]
    const access = `/api/projects/${project.id}/access`

    t.test('the owner and admins may ask who can reach the project; others may not', async (t) => {
      t.equal((await get(access, owner)).statusCode, 200)
      t.equal((await get(access, admin)).statusCode, 200)
      for (const user of [editor, viewer, auditors[0]!]) {
        const refused = assertProblem(t, await get(access, user), 403, 'forbidden')
        t.equal(refused.ruleId, null, 'no rule lets them share the project')
      }
      assertProblem(t, await get(access, stranger), 404, 'not-found')
      assertProblem(t, await get('/api/projects/2000000000/access', admin), 404, 'not-found')
      t.equal((await get(`/api/projects/${editorsOwn.id}/access`, editor)).statusCode, 200, 'an editor elsewhere owns this one')
    })

    t.test('the answer: one entry per role, the users who differ from their role listed with the deciding rules', async (t) => {
      const res = await get(access, owner)
      const body = res.json<Answer>()
      t.equal(body.projectId, project.id)
      t.equal(body.policyVersion, 1)
      const members = await api.app.db.user.count({ where: { role: 'member' } })
      t.same(body.roles, [
        { role: 'member', method: 'inverted', count: members, grants: {}, listed: 3 },
        { role: 'auditor', method: 'inverted', count: 2, grants: { read: 'auditor.read-projects' }, listed: 0 },
        { role: 'admin', method: 'inverted', count: 1, grants: ALL, listed: 0 },
      ])
      t.same(body.users, {
        items: [
          { userId: owner.id, username: owner.username, role: 'member', grants: OWNER },
          {
            userId: editor.id,
            username: editor.username,
            role: 'member',
            grants: { read: 'member.projects.shared', createTask: 'member.tasks.shared-edit' },
          },
          { userId: viewer.id, username: viewer.username, role: 'member', grants: { read: 'member.projects.shared' } },
        ],
        total: 3,
        limit: 50,
        offset: 0,
      })
      t.same((await get(access, admin)).json<Answer>(), body, 'the same answer for an admin: it is about the project, not the caller')
    })

    t.test('role-wide entries count their users, however many', async (t) => {
      for (let i = 0; i < 5; i++) await api.user('auditor')
      const body = (await get(access, owner)).json<Answer>()
      t.match(
        body.roles.find((entry) => entry.role === 'auditor'),
        { count: 7, listed: 0, grants: { read: 'auditor.read-projects' } },
      )
      t.equal(body.users.total, 3, 'auditors are not listed one by one')
    })

    t.test('users are paged by id', async (t) => {
      const page = (await get(`${access}?limit=1&offset=1`, owner)).json<Answer>()
      t.same(
        page.users.items.map((user) => user.userId),
        [editor.id],
      )
      t.match(page.users, { total: 3, limit: 1, offset: 1 })
      t.same((await get(`${access}?offset=3`, owner)).json<Answer>().users.items, [])
      t.equal(page.roles.length, 3, 'every page has the roles')
    })

    t.test('changes show on the next request: a promoted viewer, an owner who is an admin', async (t) => {
      await api.request({
        method: 'PATCH',
        url: `/api/projects/${project.id}/members/${viewer.id}`,
        as: owner,
        payload: { role: 'editor' },
      })
      const items = (await get(access, owner)).json<Answer>().users.items
      t.same(items.find((user) => user.userId === viewer.id)?.grants, {
        read: 'member.projects.shared',
        createTask: 'member.tasks.shared-edit',
      })
      const adminsOwn = (await post('/api/projects', admin, { name: 'Admin own' })).json<{ id: number }>()
      const body = (await get(`/api/projects/${adminsOwn.id}/access`, admin)).json<Answer>()
      t.same(body.users.items, [], 'the owner gets what every admin gets: nothing to list')
      t.match(body.roles, [{ role: 'member', listed: 0, grants: {} }, { role: 'auditor' }, { role: 'admin', grants: ALL }])
    })

    t.test('bad input is a problem', async (t) => {
      for (const query of ['limit=0', 'limit=101', 'offset=-1', 'limit=ten', 'ordering=id', 'search=x']) {
        assertProblem(t, await get(`${access}?${query}`, owner), 400, 'validation-error')
      }
      assertProblem(t, await get('/api/projects/zero/access', owner), 400, 'validation-error')
      assertProblem(t, await get('/api/projects/0/access', owner), 400, 'validation-error')
      assertProblem(t, await api.request({ method: 'GET', url: access }), 401)
    })

    t.test('what a user may reach: counts, first ids, the deciding rules', async (t) => {
      const res = await get(`/api/admin/users/${editor.id}/access`, admin)
      t.equal(res.statusCode, 200)
      const body = res.json<UserAnswer>()
      t.same(body.user, { id: editor.id, username: editor.username, role: 'member' })
      t.match(body, { policyVersion: 1, limit: 50, offset: 0 })
      const reach = (subject: string, action: string) => body.reach.find((entry) => entry.subject === subject && entry.action === action)
      t.equal(body.reach.length, 12, '4 subjects × read, update, delete')
      t.same(reach('Project', 'read'), {
        subject: 'Project',
        action: 'read',
        count: 2,
        ids: [project.id, editorsOwn.id],
        // Later rules are tried first: shared before own.
        rules: [
          { ruleId: 'member.projects.shared', count: 1 },
          { ruleId: 'member.projects.own', count: 1 },
        ],
      })
      t.same(reach('Project', 'update'), {
        subject: 'Project',
        action: 'update',
        count: 1,
        ids: [editorsOwn.id],
        rules: [{ ruleId: 'member.projects.own', count: 1 }],
      })
      t.match(reach('Task', 'read'), { count: 3, ids: tasks.map((task) => task.id) })
      t.same(
        reach('Task', 'update')!.rules.filter((rule) => rule.count > 0),
        [
          { ruleId: 'member.tasks.shared-edit', count: 2 },
          { ruleId: 'member.tasks.in-own-projects', count: 1 },
        ],
      )
      t.match(reach('ProjectMember', 'read'), { count: 2, rules: [{ ruleId: 'member.members.fellow', count: 2 }] })
      t.match(reach('ProjectMember', 'delete'), { count: 1, rules: [{ ruleId: 'member.members.leave', count: 1 }] })
      t.match(reach('ProjectMember', 'update'), { count: 0, ids: [] })
      t.same(reach('User', 'read'), { subject: 'User', action: 'read', count: 0, ids: [], rules: [] }, 'members read no user')
      for (const entry of body.reach) {
        t.equal(
          entry.rules.reduce((sum, rule) => sum + rule.count, 0),
          entry.count,
          `${entry.subject} ${entry.action}: the rules' counts add up`,
        )
      }
    })

    t.test('an admin reaches everything; paging applies to every id list', async (t) => {
      const body = (await get(`/api/admin/users/${admin.id}/access?limit=2&offset=1`, admin)).json<UserAnswer>()
      const users = await api.app.db.user.findMany({ orderBy: { id: 'asc' }, select: { id: true } })
      t.same(
        body.reach.find((entry) => entry.subject === 'User' && entry.action === 'delete'),
        {
          subject: 'User',
          action: 'delete',
          count: users.length,
          ids: users.slice(1, 3).map((user) => user.id),
          rules: [{ ruleId: 'admin.manage-all', count: users.length }],
        },
      )
      const auditor = (await get(`/api/admin/users/${auditors[0]!.id}/access`, admin)).json<UserAnswer>()
      t.match(
        auditor.reach.find((entry) => entry.subject === 'Task' && entry.action === 'read'),
        { count: await api.app.db.task.count(), rules: [{ ruleId: 'auditor.read-tasks' }] },
      )
      t.match(
        auditor.reach.find((entry) => entry.subject === 'Task' && entry.action === 'update'),
        { count: 0 },
      )
    })

    t.test('only those who may read users may ask', async (t) => {
      for (const user of [owner, auditors[0]!]) {
        assertProblem(t, await get(`/api/admin/users/${editor.id}/access`, user), 403, 'forbidden')
        assertProblem(t, await get(`/api/admin/users/${user.id}/access`, user), 403, 'forbidden')
      }
      assertProblem(t, await get('/api/admin/users/2000000000/access', admin), 404, 'not-found')
      assertProblem(t, await get(`/api/admin/users/${editor.id}/access?limit=0`, admin), 400, 'validation-error')
      assertProblem(t, await get(`/api/admin/users/${editor.id}/access?extra=1`, admin), 400, 'validation-error')
    })
  })
}
