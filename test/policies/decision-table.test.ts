import { join } from 'node:path'
import t from 'tap'
import { rowsFromData, runDecisionTable, UPDATED_FIELD, type DecisionRow } from '../../src/policy/decision-table.ts'
import { DECISION_TABLE_FILE, readDecisionTableFile, readRuleFile, RULES_FILE } from '../../src/policy/files.ts'
import { compileRules } from '../../src/policy/validate.ts'
import { TABLE_ACTIONS, TABLE_SUBJECTS } from '../../src/shared/vocabulary.ts'
import { startApp, type TestApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// The decision table of policies/, row by row, as real HTTP requests against real databases.

const policiesDir = join(import.meta.dirname, '../../policies')
const rows = readDecisionTableFile(join(policiesDir, DECISION_TABLE_FILE))
const document = readRuleFile(join(policiesDir, RULES_FILE))
const COLLECTION = { Project: '/api/projects', Task: '/api/tasks', User: '/api/admin/users' } as const
const MISSING_ID = 2_147_483_000
const SHARED = ['shared-editor', 'shared-viewer'] as const

t.test('the table covers every role × action × subject × resource cell', async (t) => {
  const cells = new Set(rows.map((r) => `${r.role} ${r.action} ${r.subject} ${r.resource}`))
  t.equal(cells.size, rows.length, 'no duplicate rows')
  for (const role of Object.keys(document)) {
    for (const subject of TABLE_SUBJECTS) {
      for (const action of TABLE_ACTIONS) {
        if (action === 'move' && subject !== 'Task') continue
        if (action === 'create' && subject === 'User') continue
        const present = subject === 'User' ? ['own', 'other'] : ['own', ...SHARED, 'other']
        const resources = action === 'list' ? present : action === 'create' && subject === 'Project' ? ['own'] : [...present, 'none']
        for (const resource of resources)
          t.ok(cells.has(`${role} ${action} ${subject} ${resource}`), `${role} ${action} ${subject} ${resource}`)
      }
    }
  }
})

t.test('rows the world has no object for are refused when the table is read', async (t) => {
  const row = { role: 'admin', action: 'read', subject: 'User', expect: 'allow', status: 200 } as const
  for (const resource of SHARED) t.throws(() => rowsFromData([{ ...row, resource }]), /line 1: users are not shared/)
  t.throws(() => rowsFromData([{ ...row, action: 'move', subject: 'ProjectMember', resource: 'own' }]), /only tasks move/)
  t.equal(rowsFromData([{ ...row, subject: 'ProjectMember', resource: 'shared-viewer' }]).length, 1)
})

t.test('in-process: the policy files pass the table', async (t) => {
  for (const result of runDecisionTable(compileRules(document, 1), rows)) {
    t.ok(
      result.pass,
      `line ${result.row.line}: ${result.row.role} ${result.row.action} ${result.row.subject} ${result.row.resource} → ${result.allowed ? 'allow' : 'deny'} ${result.status}`,
    )
  }
})

/**
 * The objects a row talks about, created fresh for that row: the caller's project, another
 * member's, two more of theirs shared with the caller (editor, viewer), a task in each, and a
 * third member in the caller's project and in the other member's.
 */
async function worldFor(api: TestApp, row: DecisionRow) {
  const actor = await api.user(row.role)
  const other = await api.user('member')
  const third = await api.user('member')
  // Belongs to no project: the user a create of a ProjectMember adds.
  const fresh = await api.user('member')
  const db = api.app.db
  const mark = `row${row.line}-${actor.id}`
  const project = (resource: Present, ownerId: number) => db.project.create({ data: { name: `${mark}-${resource}`, ownerId } })
  const projects = {
    own: await project('own', actor.id),
    other: await project('other', other.id),
    'shared-editor': await project('shared-editor', other.id),
    'shared-viewer': await project('shared-viewer', other.id),
  }
  const task = (resource: Present) => db.task.create({ data: { title: `${mark}-${resource}`, projectId: projects[resource].id } })
  const tasks = {
    own: await task('own'),
    other: await task('other'),
    'shared-editor': await task('shared-editor'),
    'shared-viewer': await task('shared-viewer'),
  }
  const member = (resource: Present, userId: number, role: 'viewer' | 'editor') =>
    db.projectMember.create({ data: { projectId: projects[resource].id, userId, role } })
  const memberships = {
    own: await member('own', third.id, 'viewer'),
    other: await member('other', third.id, 'viewer'),
    'shared-editor': await member('shared-editor', actor.id, 'editor'),
    'shared-viewer': await member('shared-viewer', actor.id, 'viewer'),
  }
  const objects = {
    Project: projects,
    Task: tasks,
    ProjectMember: memberships,
    User: { own: { id: actor.id, username: actor.username }, other: { id: other.id, username: other.username } },
  }
  return { actor, fresh, ownTask: tasks.own, objects, projects }
}

type Present = Exclude<DecisionRow['resource'], 'none'>
type World = Awaited<ReturnType<typeof worldFor>>
type Target = { id: number; name?: string; title?: string; username?: string; projectId?: number; userId?: number; role?: string }

async function snapshot(api: TestApp) {
  const db = api.app.db
  const [users, projects, tasks, members] = await Promise.all([
    db.user.findMany({ orderBy: { id: 'asc' }, select: { id: true, role: true } }),
    db.project.findMany({ orderBy: { id: 'asc' } }),
    db.task.findMany({ orderBy: { id: 'asc' } }),
    db.projectMember.findMany({ orderBy: { id: 'asc' } }),
  ])
  return { users, projects, tasks, members }
}

/** The row's object: a membership is addressed by its project and user. */
function urlOf(subject: DecisionRow['subject'], target: Target): string {
  return subject === 'ProjectMember' ? `/api/projects/${target.projectId}/members/${target.userId}` : `${COLLECTION[subject]}/${target.id}`
}

function targetOf(row: DecisionRow, world: World): Target {
  if (row.resource === 'none')
    return { id: MISSING_ID, name: 'none', title: 'none', username: 'none', projectId: MISSING_ID, userId: MISSING_ID }
  const objects: Partial<Record<Present, Target>> = world.objects[row.subject]
  const target = objects[row.resource]
  if (!target) throw new Error(`line ${row.line}: no ${row.resource} ${row.subject} in the world`)
  return target
}

async function perform(api: TestApp, row: DecisionRow, world: World) {
  const { actor, fresh, ownTask, projects } = world
  const target = targetOf(row, world)
  const targetProjectId = row.resource === 'none' ? MISSING_ID : projects[row.resource].id
  const request = async (options: Parameters<TestApp['request']>[0]) => ({
    actor,
    res: await api.request({ ...options, as: actor }),
    target,
  })
  switch (row.action) {
    case 'list': {
      if (row.subject === 'ProjectMember') return request({ url: `/api/projects/${target.projectId}/members?limit=100` })
      const searchText = target.username ?? target.title ?? target.name!
      return request({ url: `${COLLECTION[row.subject]}?limit=100&search=${encodeURIComponent(searchText)}` })
    }
    case 'read':
      return request({ url: urlOf(row.subject, target) })
    case 'delete':
      return request({ method: 'DELETE', url: urlOf(row.subject, target) })
    case 'update': {
      const field = UPDATED_FIELD[row.subject]
      const value =
        row.subject === 'User'
          ? 'auditor'
          : row.subject === 'ProjectMember'
            ? target.role === 'viewer'
              ? 'editor'
              : 'viewer'
            : `changed by ${actor.username}`
      return request({ method: 'PATCH', url: urlOf(row.subject, target), payload: { [field]: value } })
    }
    case 'create':
      if (row.subject === 'ProjectMember') {
        return request({
          method: 'POST',
          url: `/api/projects/${targetProjectId}/members`,
          payload: { username: fresh.username, role: 'viewer' },
        })
      }
      return request({
        method: 'POST',
        url: row.subject === 'Project' ? COLLECTION.Project : COLLECTION.Task,
        payload: row.subject === 'Project' ? { name: 'created' } : { title: 'created', projectId: targetProjectId },
      })
    case 'move':
      return request({ method: 'PATCH', url: `/api/tasks/${ownTask.id}`, payload: { projectId: targetProjectId } })
  }
}

/** Whether the row's object is on the page: memberships have no id of their own in answers. */
function isListed(row: DecisionRow, target: Target, items: Array<{ id?: number; projectId?: number; userId?: number }>): boolean {
  return row.subject === 'ProjectMember'
    ? items.some((item) => item.projectId === target.projectId && item.userId === target.userId)
    : items.some((item) => item.id === target.id)
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
            const listed = isListed(row, target, res.json().items)
            t.equal(listed, row.expect === 'allow', row.expect === 'allow' ? 'listed' : 'not listed')
          }
        } else {
          t.equal(res.statusCode < 300, row.expect === 'allow')
        }
        if (res.statusCode >= 400) t.match(res.headers['content-type'], /problem\+json/)
        if (row.status === 403 && row.action === 'create' && row.subject === 'Task') {
          t.equal(res.json().detail, 'You cannot create tasks for this project.')
        }
        if (row.status === 403 && row.action === 'create' && row.subject === 'ProjectMember') {
          t.equal(res.json().detail, 'You cannot create project members for this project.')
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
