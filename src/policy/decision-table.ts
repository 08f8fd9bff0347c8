import type { CompiledRules } from '../authz/compiled-rules.ts'
import { dataModel, type RelationField } from '../authz/data-model.ts'
import { decideAccess, decideCreate, decideMove, decideOn, type Decision, type ParentRef } from '../authz/decisions.ts'
import type { DecisionRowData } from '../shared/rule-format.ts'
import { TABLE_ACTIONS, TABLE_RESOURCES, TABLE_SUBJECTS } from '../shared/vocabulary.ts'

// The decision table (policies/decision-table.md): rows of role × action × subject × resource with
// the expected outcome. Parsed here, evaluated in-process here, and over HTTP by the test suite.

export interface DecisionRow {
  /** 1-based line in the source file, for messages. */
  line: number
  role: string
  action: (typeof TABLE_ACTIONS)[number]
  subject: (typeof TABLE_SUBJECTS)[number]
  resource: (typeof TABLE_RESOURCES)[number]
  expect: 'allow' | 'deny'
  status: number
  note: string
}

export interface RowResult {
  row: DecisionRow
  allowed: boolean
  status: number
  ruleId: string | null
  pass: boolean
  /** The policy could not be evaluated for this row (the row fails); why. */
  error?: string
}

/** The status reported for a row whose evaluation failed: what the API would have answered. */
export const EVALUATION_FAILED = 500

export class DecisionTableError extends Error {}

/** The field a row's `update` changes, per subject. */
export const UPDATED_FIELD = { Project: 'name', Task: 'title', ProjectMember: 'role', User: 'role' } as const

const SUCCESS = { list: 200, read: 200, create: 201, update: 200, move: 200, delete: 204 } as const

function oneOf<T extends string>(allowed: readonly T[], value: string, column: string, line: number): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new DecisionTableError(`line ${line}: ${column} "${value}" is not one of ${allowed.join(', ')}`)
}

export function parseDecisionTable(text: string): DecisionRow[] {
  const rows: DecisionRow[] = []
  let header: string[] | undefined
  for (const [index, raw] of text.split('\n').entries()) {
    const line = index + 1
    const trimmed = raw.trim()
    if (!trimmed.startsWith('|')) continue
    const cells = trimmed
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((cell) => cell.trim())
    if (!header) {
      header = cells.map((cell) => cell.toLowerCase())
      for (const column of ['role', 'action', 'subject', 'resource', 'expect', 'status']) {
        if (!header.includes(column)) throw new DecisionTableError(`line ${line}: the table has no "${column}" column`)
      }
      continue
    }
    if (cells.every((cell) => /^:?-+:?$/.test(cell))) continue
    const get = (column: string) => cells[header!.indexOf(column)] ?? ''
    const status = Number(get('status'))
    if (!Number.isInteger(status) || status < 100 || status > 599) {
      throw new DecisionTableError(`line ${line}: status "${get('status')}" is not an HTTP status`)
    }
    rows.push(
      checkRow({
        line,
        role: get('role'),
        action: oneOf(TABLE_ACTIONS, get('action'), 'action', line),
        subject: oneOf(TABLE_SUBJECTS, get('subject'), 'subject', line),
        resource: oneOf(TABLE_RESOURCES, get('resource'), 'resource', line),
        expect: oneOf(['allow', 'deny'] as const, get('expect'), 'expect', line),
        status,
        note: get('note'),
      }),
    )
  }
  if (!header) throw new DecisionTableError('no table found')
  return nonEmpty(rows)
}

/** A table without rows would pass any policy: the gate would be gone. */
function nonEmpty(rows: DecisionRow[]): DecisionRow[] {
  if (rows.length === 0) throw new DecisionTableError('the decision table has no rows; it needs at least one')
  return rows
}

/** Rules a row must follow beyond its columns' values; `line` names it in the message. */
function checkRow(row: DecisionRow): DecisionRow {
  const at = `line ${row.line}`
  if (!row.role) throw new DecisionTableError(`${at}: role is empty`)
  // Tables are stored as JSONB, which refuses the NUL character.
  if (row.note.includes('\u0000')) throw new DecisionTableError(`${at}: the note contains the NUL character`)
  if (row.action === 'move' && row.subject !== 'Task') throw new DecisionTableError(`${at}: only tasks move`)
  if (row.subject === 'User' && row.resource !== 'own' && row.resource !== 'other' && row.resource !== 'none') {
    throw new DecisionTableError(`${at}: users are not shared: a User row's resource is own, other or none, not ${row.resource}`)
  }
  if (row.action === 'create' && row.subject === 'User') throw new DecisionTableError(`${at}: users are created by registering`)
  if (row.action === 'create' && row.subject === 'Project' && row.resource !== 'own') {
    throw new DecisionTableError(`${at}: a project is always created for its caller (resource own)`)
  }
  return row
}

export function rowsFromData(rows: DecisionRowData[]): DecisionRow[] {
  return nonEmpty(rows.map((row, index) => checkRow({ note: '', ...row, line: index + 1 })))
}

export function rowsToData(rows: DecisionRow[]): DecisionRowData[] {
  return rows.map(({ line: _line, note, ...row }) => (note ? { ...row, note } : row))
}

/** Ids of the in-process world; the HTTP runner builds the same shapes in a database. */
const ACTOR = 1
const OTHER = 2
/** A member of the caller's project and of the other member's, who is neither of them. */
const THIRD = 3
/** The user a `create` of a ProjectMember adds: nobody's member yet. */
const FRESH = 4
const MISSING = 999

type Row = Record<string, unknown>
/** The resources a subject has objects for (`none` has none; users are never shared). */
type Present = Exclude<(typeof TABLE_RESOURCES)[number], 'none'>
type Projects = Record<Present, Row>

/**
 * The caller's world: their own project, another member's, and two more of the other member's
 * shared with the caller (as editor, as viewer), each with a task; a third user is a member of
 * the caller's project and of the other member's. Related rows are attached the way the rules
 * read them (a project's `owner` and `members`, a task's `project`, a membership's `project` and `user`).
 */
function world(role: string) {
  const at = new Date(0)
  const user = (id: number, username: string, userRole: string) => ({ id, username, role: userRole, createdAt: at })
  const users = { own: user(ACTOR, 'actor', role), other: user(OTHER, 'other', 'member') }
  const third = user(THIRD, 'third', 'member')
  const fresh = user(FRESH, 'fresh', 'member')
  const membership = (id: number, projectId: number, userId: number, memberRole: string) => ({
    id,
    projectId,
    userId,
    role: memberRole,
    createdAt: at,
  })
  const memberships = {
    own: membership(12, 10, THIRD, 'viewer'),
    other: membership(22, 20, THIRD, 'viewer'),
    'shared-editor': membership(32, 30, ACTOR, 'editor'),
    'shared-viewer': membership(42, 40, ACTOR, 'viewer'),
  }
  const project = (id: number, owner: Row, resource: Present) => ({
    id,
    ownerId: owner.id,
    name: resource,
    description: '',
    createdAt: at,
    owner,
    members: [memberships[resource]],
  })
  const projects: Projects = {
    own: project(10, users.own, 'own'),
    other: project(20, users.other, 'other'),
    'shared-editor': project(30, users.other, 'shared-editor'),
    'shared-viewer': project(40, users.other, 'shared-viewer'),
  }
  const task = (resource: Present) => {
    const parent = projects[resource]
    return {
      id: (parent.id as number) + 1,
      projectId: parent.id,
      title: resource,
      description: '',
      completed: false,
      createdAt: at,
      project: parent,
    }
  }
  const tasks = { own: task('own'), other: task('other'), 'shared-editor': task('shared-editor'), 'shared-viewer': task('shared-viewer') }
  const member = (resource: Present) => {
    const row = memberships[resource]
    return { ...row, project: projects[resource], user: row.userId === ACTOR ? users.own : third }
  }
  const members = {
    own: member('own'),
    other: member('other'),
    'shared-editor': member('shared-editor'),
    'shared-viewer': member('shared-viewer'),
  }
  const byType: Record<(typeof TABLE_SUBJECTS)[number], Partial<Record<Present, Row>>> = {
    User: users,
    Project: projects,
    Task: tasks,
    ProjectMember: members,
  }
  return { users, fresh, projects, tasks, byType }
}

/**
 * The parent a new or moved `subject` is checked with, chosen as the authorizer chooses it: of
 * the relations whose foreign keys the request names, the one the rules read, else the first.
 */
function parentOf(policy: CompiledRules, subject: string, candidates: Record<string, Row | null>): ParentRef {
  const needs = policy.relationSelects.get(subject) ?? {}
  const named = [...(dataModel().get(subject)?.fields.values() ?? [])].filter(
    (field): field is RelationField & { foreignKey: string } =>
      field.kind === 'relation' && field.foreignKey !== undefined && field.name in candidates,
  )
  const relation = named.find((field) => field.name in needs) ?? named[0]
  if (!relation) throw new Error(`${subject} has no parent among ${Object.keys(candidates).join(', ')}`)
  return { field: relation.foreignKey, subject: relation.target, relation: relation.name, row: candidates[relation.name] ?? null }
}

/**
 * Evaluates one row against a policy with the same decision functions the API uses. Total: a
 * rule the in-memory check cannot evaluate fails the row instead of throwing, so a review of
 * any version (a rollback away from a broken one included) always gets an answer.
 */
export function evaluateRow(policy: CompiledRules, row: DecisionRow): RowResult {
  try {
    return evaluate(policy, row)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return { row, allowed: false, status: EVALUATION_FAILED, ruleId: null, pass: false, error: `cannot be evaluated: ${message}` }
  }
}

function evaluate(policy: CompiledRules, row: DecisionRow): RowResult {
  const w = world(row.role)
  const ability = policy.abilityFor({ id: ACTOR, username: 'actor', role: row.role })
  const target = row.resource === 'none' ? null : (w.byType[row.subject][row.resource] ?? null)
  // The project the row's object is in (a membership's included), or a new or moved task goes into.
  const parentProject = row.resource === 'none' ? null : w.projects[row.resource]
  // The members API looks the project up first: an unreadable or missing one answers 404.
  const projectFirst = () => decideOn(ability, 'read', 'Project', parentProject)
  let decision: Decision
  let listed: boolean | undefined
  switch (row.action) {
    case 'list': {
      // A membership is listed under its project: `GET /api/projects/:id/members`.
      const project = row.subject === 'ProjectMember' ? projectFirst() : undefined
      decision = project && !project.allowed ? project : decideAccess(ability, 'read', row.subject)
      if (decision.allowed) listed = decideOn(ability, 'read', row.subject, target).allowed
      break
    }
    case 'read':
    case 'delete':
      decision = decideOn(ability, row.action, row.subject, target)
      break
    case 'update':
      decision = decideOn(ability, 'update', row.subject, target, [UPDATED_FIELD[row.subject]])
      break
    case 'create':
      if (row.subject === 'Project') {
        decision = decideCreate(ability, 'Project', { name: 'new', ownerId: ACTOR })
      } else if (row.subject === 'ProjectMember') {
        decision = projectFirst()
        if (decision.allowed) {
          const data = { projectId: parentProject!.id, userId: FRESH, role: 'viewer' }
          decision = decideCreate(
            ability,
            'ProjectMember',
            data,
            parentOf(policy, 'ProjectMember', { project: parentProject, user: w.fresh }),
          )
        }
      } else {
        const parent = parentOf(policy, 'Task', { project: parentProject })
        decision = decideCreate(ability, 'Task', { title: 'new', [parent.field]: parentProject?.id ?? MISSING }, parent)
      }
      break
    case 'move': {
      const task = w.tasks.own
      decision = decideOn(ability, 'update', 'Task', task, ['projectId'])
      if (decision.allowed) {
        const parent = parentOf(policy, 'Task', { project: parentProject })
        decision = decideMove(ability, 'Task', { ...task, [parent.field]: parentProject?.id ?? MISSING }, parent)
      }
      break
    }
  }
  const status = decision.allowed ? SUCCESS[row.action] : decision.status
  const allowed = row.action === 'list' ? listed === true : decision.allowed
  return {
    row,
    allowed,
    status,
    ruleId: decision.ruleId,
    pass: allowed === (row.expect === 'allow') && status === row.status,
  }
}

export function runDecisionTable(policy: CompiledRules, rows: DecisionRow[]): RowResult[] {
  return rows.map((row) => evaluateRow(policy, row))
}

/** The table as people read it, with a verdict per row. */
export function formatResults(results: RowResult[]): string {
  const header = ['', 'line', 'role', 'action', 'subject', 'resource', 'expected', 'got', 'rule']
  const lines = results.map((r) => [
    r.pass ? 'ok' : 'FAIL',
    String(r.row.line),
    r.row.role,
    r.row.action,
    r.row.subject,
    r.row.resource,
    `${r.row.expect} ${r.row.status}`,
    `${r.allowed ? 'allow' : 'deny'} ${r.status}`,
    r.ruleId ?? '-',
  ])
  const widths = header.map((_, i) => Math.max(header[i]!.length, ...lines.map((l) => l[i]!.length)))
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  const failed = results.filter((r) => !r.pass).length
  return [fmt(header), ...lines.map(fmt), '', `${results.length - failed} passed, ${failed} failed`].join('\n')
}
