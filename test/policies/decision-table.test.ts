import { join } from 'node:path'
import t from 'tap'
import { runDecisionTable, UPDATED_FIELD, type DecisionRow } from '../../src/policy/decision-table.ts'
import { DECISION_TABLE_FILE, readDecisionTableFile, readRuleFile, RULES_FILE } from '../../src/policy/files.ts'
import { compileRules } from '../../src/policy/validate.ts'
import { startApp, type TestApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// The decision table of policies/, row by row, as real HTTP requests against real databases.

const policiesDir = join(import.meta.dirname, '../../policies')
const rows = readDecisionTableFile(join(policiesDir, DECISION_TABLE_FILE))
const COLLECTION = { Project: '/api/projects', Task: '/api/tasks', User: '/api/admin/users' } as const
const MISSING_ID = 2_147_483_000

t.test('the table covers every role × action × subject × resource cell', async (t) => {
  const cells = new Set(rows.map((r) => `${r.role} ${r.action} ${r.subject} ${r.resource}`))
  t.equal(cells.size, rows.length, 'no duplicate rows')
  for (const role of ['member', 'auditor', 'admin']) {
    for (const subject of ['Project', 'Task', 'User'] as const) {
      for (const action of ['list', 'read', 'create', 'update', 'move', 'delete'] as const) {
        if (action === 'move' && subject !== 'Task') continue
        if (action === 'create' && subject === 'User') continue
        const resources =
          action === 'list' ? ['own', 'other'] : action === 'create' && subject === 'Project' ? ['own'] : ['own', 'other', 'none']
        for (const resource of resources)
          t.ok(cells.has(`${role} ${action} ${subject} ${resource}`), `${role} ${action} ${subject} ${resource}`)
      }
    }
  }
})

t.test('in-process: the policy files pass the table', async (t) => {
  for (const result of runDecisionTable(compileRules(readRuleFile(join(policiesDir, RULES_FILE)), 1), rows)) {
    t.ok(
      result.pass,
      `line ${result.row.line}: ${result.row.role} ${result.row.action} ${result.row.subject} ${result.row.resource} → ${result.allowed ? 'allow' : 'deny'} ${result.status}`,
    )
  }
})

/** The objects a row talks about, created fresh for that row. */
async function worldFor(api: TestApp, row: DecisionRow) {
  const actor = await api.user(row.role)
  const other = await api.user('member')
  const db = api.app.db
  const mark = `row${row.line}-${actor.id}`
  const ownProject = await db.project.create({ data: { name: `${mark}-own`, ownerId: actor.id } })
  const otherProject = await db.project.create({ data: { name: `${mark}-other`, ownerId: other.id } })
  const ownTask = await db.task.create({ data: { title: `${mark}-own`, projectId: ownProject.id } })
  const otherTask = await db.task.create({ data: { title: `${mark}-other`, projectId: otherProject.id } })
  const objects = {
    Project: { own: ownProject, other: otherProject },
    Task: { own: ownTask, other: otherTask },
    User: { own: { id: actor.id, username: actor.username }, other: { id: other.id, username: other.username } },
  }
  return { actor, ownTask, objects, projects: { own: ownProject, other: otherProject } }
}

async function snapshot(api: TestApp) {
  const db = api.app.db
  const [users, projects, tasks] = await Promise.all([
    db.user.findMany({ orderBy: { id: 'asc' }, select: { id: true, role: true } }),
    db.project.findMany({ orderBy: { id: 'asc' } }),
    db.task.findMany({ orderBy: { id: 'asc' } }),
  ])
  return { users, projects, tasks }
}

async function perform(api: TestApp, row: DecisionRow, world: Awaited<ReturnType<typeof worldFor>>) {
  const { actor, ownTask, objects, projects } = world
  const collection = COLLECTION[row.subject]
  const target =
    row.resource === 'none' ? { id: MISSING_ID, name: 'none', title: 'none', username: 'none' } : objects[row.subject][row.resource]
  const targetProjectId = row.resource === 'none' ? MISSING_ID : projects[row.resource].id
  const searchText = 'username' in target ? target.username : 'title' in target ? target.title : target.name
  switch (row.action) {
    case 'list':
      return {
        actor,
        res: await api.request({ url: `${collection}?limit=100&search=${encodeURIComponent(searchText)}`, as: actor }),
        target,
      }
    case 'read':
      return { actor, res: await api.request({ url: `${collection}/${target.id}`, as: actor }), target }
    case 'delete':
      return { actor, res: await api.request({ method: 'DELETE', url: `${collection}/${target.id}`, as: actor }), target }
    case 'update': {
      const field = UPDATED_FIELD[row.subject]
      const payload = { [field]: field === 'role' ? 'auditor' : `changed by ${actor.username}` }
      return { actor, res: await api.request({ method: 'PATCH', url: `${collection}/${target.id}`, as: actor, payload }), target }
    }
    case 'create': {
      const payload = row.subject === 'Project' ? { name: 'created' } : { title: 'created', projectId: targetProjectId }
      return { actor, res: await api.request({ method: 'POST', url: collection, as: actor, payload }), target }
    }
    case 'move':
      return {
        actor,
        res: await api.request({ method: 'PATCH', url: `/api/tasks/${ownTask.id}`, as: actor, payload: { projectId: targetProjectId } }),
        target,
      }
  }
}

for (const engine of engines) {
  t.test(`over HTTP on ${engine}`, async (t) => {
    const api = await startApp(t, engine)
    for (const row of rows) {
      const name = `line ${row.line}: ${row.role} ${row.action} ${row.subject} ${row.resource} → ${row.expect} ${row.status}`
      t.test(name, async (t) => {
        const world = await worldFor(api, row)
        const before = row.expect === 'deny' ? await snapshot(api) : undefined
        const { res, target } = await perform(api, row, world)
        t.equal(res.statusCode, row.status, `status: ${res.body.slice(0, 200)}`)
        if (row.action === 'list') {
          if (res.statusCode === 200) {
            const listed = res.json().items.some((item: { id: number }) => item.id === target.id)
            t.equal(listed, row.expect === 'allow', row.expect === 'allow' ? 'listed' : 'not listed')
          }
        } else {
          t.equal(res.statusCode < 300, row.expect === 'allow')
        }
        if (res.statusCode >= 400) t.match(res.headers['content-type'], /problem\+json/)
        if (row.status === 403 && row.action === 'create' && row.subject === 'Task') {
          t.equal(res.json().detail, 'You cannot create tasks for this project.')
        }
        if (row.status === 403 && row.action === 'move' && row.role === 'member')
          t.equal(res.json().detail, 'You cannot move tasks into this project.')
        if (row.status === 400) t.match(res.json().errors, [{ field: 'projectId' }])
        if (before) {
          t.same(await snapshot(api), before, 'a denied request changes nothing')
        }
      })
    }
  })
}
