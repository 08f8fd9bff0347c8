import type { CompiledRules } from '../authz/compiled-rules.ts'
import { foreignKeyTo } from '../authz/data-model.ts'
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
export const UPDATED_FIELD = { Project: 'name', Task: 'title', User: 'role' } as const

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

function world(role: string) {
  const users = {
    own: { id: ACTOR, username: 'actor', role, createdAt: new Date(0) },
    other: { id: OTHER, username: 'other', role: 'member', createdAt: new Date(0) },
  }
  const projects = {
    own: { id: 10, ownerId: ACTOR, name: 'own', description: '', createdAt: new Date(0), owner: users.own },
    other: { id: 20, ownerId: OTHER, name: 'other', description: '', createdAt: new Date(0), owner: users.other },
  }
  const tasks = {
    own: { id: 11, projectId: 10, title: 'own', description: '', completed: false, createdAt: new Date(0), project: projects.own },
    other: { id: 21, projectId: 20, title: 'other', description: '', completed: false, createdAt: new Date(0), project: projects.other },
  }
  return { users, projects, tasks, byType: { User: users, Project: projects, Task: tasks } }
}

/** The row's project as the parent of a new or moved `subject`, by the data model's relation. */
function projectOf(subject: string, row: Record<string, unknown> | null = null): ParentRef {
  const relation = foreignKeyTo(subject, 'Project')
  return { field: relation.foreignKey, subject: 'Project', relation: relation.name, row }
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
  const target = row.resource === 'none' ? null : w.byType[row.subject][row.resource]
  const parentProject = row.resource === 'none' ? null : w.projects[row.resource]
  let decision: Decision
  let listed: boolean | undefined
  switch (row.action) {
    case 'list':
      decision = decideAccess(ability, 'read', row.subject)
      if (decision.allowed) listed = decideOn(ability, 'read', row.subject, target).allowed
      break
    case 'read':
    case 'delete':
      decision = decideOn(ability, row.action, row.subject, target)
      break
    case 'update':
      decision = decideOn(ability, 'update', row.subject, target, [UPDATED_FIELD[row.subject]])
      break
    case 'create':
      decision =
        row.subject === 'Project'
          ? decideCreate(ability, 'Project', { name: 'new', ownerId: ACTOR })
          : decideCreate(
              ability,
              'Task',
              { title: 'new', [projectOf('Task').field]: parentProject?.id ?? 999 },
              projectOf('Task', parentProject),
            )
      break
    case 'move': {
      const task = w.tasks.own
      decision = decideOn(ability, 'update', 'Task', task, ['projectId'])
      if (decision.allowed) {
        const parent = projectOf('Task', parentProject)
        decision = decideMove(ability, 'Task', { ...task, [parent.field]: parentProject?.id ?? 999 }, parent)
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
