import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'
import { HttpProblem } from '../lib/problem.ts'
import { CompiledPolicy, PolicyValidationError } from './compile.ts'
import { DecisionTableError, rowsFromData, rowsToData, runDecisionTable, type DecisionRow, type DecisionRowData, type RowResult } from './decision-table.ts'
import { diffRules, toDocument, type PolicyRule } from './policy-set.ts'
import { ROLES } from './roles.ts'
import type { PolicyError } from './validate.ts'
import { VersionConflictError, type ActivePolicy, type Author, type PolicyStore } from './store.ts'

// Everything an admin (API or CLI) does with a proposed policy: validate it, run the decision
// table, compare it with the active version (table flips, impact on live rows), and activate it.

export interface Proposal {
  rules: PolicyRule[]
  table?: DecisionRowData[]
  message?: string
}

export interface TableReport {
  passed: number
  failed: number
  rows: Array<DecisionRowData & { row: number; allowed: boolean; got: number; ruleId: string | null; pass: boolean }>
}

export interface Flip {
  row: number
  role: string
  action: string
  subject: string
  resource: string
  before: { allowed: boolean; status: number }
  after: { allowed: boolean; status: number }
}

interface Checked {
  errors: PolicyError[]
  compiled?: CompiledPolicy
  rows?: DecisionRow[]
  results?: RowResult[]
  flips: Flip[]
}

/** Validation, the decision table (the proposal's own, or the active one) and its flips. */
export function checkProposal(proposal: Proposal, active: ActivePolicy): Checked {
  let rows: DecisionRow[]
  try {
    rows = proposal.table ? rowsFromData(proposal.table) : active.table
  } catch (error) {
    if (!(error instanceof DecisionTableError)) throw error
    return { errors: [{ role: '', ruleId: null, path: 'table', message: error.message.replace(/^line/, 'row') }], flips: [] }
  }
  let compiled: CompiledPolicy
  try {
    compiled = new CompiledPolicy(toDocument(proposal.rules), active.version + 1)
  } catch (error) {
    if (!(error instanceof PolicyValidationError)) throw error
    return { errors: error.errors, rows, flips: [] }
  }
  const results = runDecisionTable(compiled, rows)
  const before = runDecisionTable(active.policy, rows)
  const flips = results.flatMap((after, i) => {
    const old = before[i]!
    if (old.allowed === after.allowed && old.status === after.status) return []
    const { line, role, action, subject, resource } = after.row
    return [{ row: line, role, action, subject, resource, before: { allowed: old.allowed, status: old.status }, after: { allowed: after.allowed, status: after.status } }]
  })
  return { errors: [], compiled, rows, results, flips }
}

export function tableReport(results: RowResult[]): TableReport {
  const rows = results.map((r) => ({ ...rowsToData([r.row])[0]!, row: r.row.line, allowed: r.allowed, got: r.status, ruleId: r.ruleId, pass: r.pass }))
  const failed = rows.filter((r) => !r.pass).length
  return { passed: rows.length - failed, failed, rows }
}

// ---------------------------------------------------------------------------------------------
// Impact on live data

const IMPACT_SUBJECTS = ['Project', 'Task'] as const
const IMPACT_ACTIONS = { visible: 'read', writable: 'update' } as const
/**
 * Users of a role whose rules name the user are considered one by one, up to this many (lowest
 * ids first): each costs two counts over the table, so the report stays fast on large data.
 */
export const IMPACT_USER_SAMPLE = 10
const EXAMPLES = 3

export interface Change {
  /** Rows that become visible (or writable), summed over the considered users. */
  gained: number
  /** Rows that stop being visible (or writable), summed over the considered users. */
  lost: number
  /** A few of them, for the first considered user concerned. */
  gainedExamples: number[]
  lostExamples: number[]
}

export interface RoleImpact {
  role: string
  /** `role`: the rules do not depend on the user, counts hold for everyone with the role. */
  scope: 'role' | 'per-user'
  usersWithRole: number
  usersConsidered: number
  Project: { visible: Change; writable: Change }
  Task: { visible: Change; writable: Change }
}

type CountDelegate = {
  count(args: { where: object }): Promise<number>
  findMany(args: { where: object; select: { id: true }; take: number; orderBy: { id: 'asc' } }): Promise<Array<{ id: number }>>
}

async function changeFor(db: PrismaClient, subject: string, pairs: Array<{ before: object; after: object }>): Promise<Change> {
  const change: Change = { gained: 0, lost: 0, gainedExamples: [], lostExamples: [] }
  const changed = pairs.filter(({ before, after }) => JSON.stringify(before) !== JSON.stringify(after))
  const delegate = (db as unknown as Record<string, CountDelegate>)[subject.toLowerCase()]!
  // A few users at a time: the pool is shared with live traffic.
  await eachLimited([...changed.entries()], 4, async ([index, { before, after }]) => {
    const gainedWhere = { AND: [after, { NOT: before }] }
    const lostWhere = { AND: [before, { NOT: after }] }
    const examples = index === 0
    const [gained, lost, gainedRows, lostRows] = await Promise.all([
      delegate.count({ where: gainedWhere }),
      delegate.count({ where: lostWhere }),
      examples ? delegate.findMany({ where: gainedWhere, select: { id: true }, take: EXAMPLES, orderBy: { id: 'asc' } }) : [],
      examples ? delegate.findMany({ where: lostWhere, select: { id: true }, take: EXAMPLES, orderBy: { id: 'asc' } }) : [],
    ])
    change.gained += gained
    change.lost += lost
    if (examples) {
      change.gainedExamples = gainedRows.map((r) => r.id)
      change.lostExamples = lostRows.map((r) => r.id)
    }
  })
  return change
}

async function eachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await run(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/**
 * For each role, how many live Projects and Tasks become visible or hidden, writable or
 * read-only, counted in SQL with the two policies' accessibleBy filters (never by loading rows).
 */
export async function impactOf(db: PrismaClient, before: CompiledPolicy, after: CompiledPolicy): Promise<RoleImpact[]> {
  return Promise.all(
    ROLES.map(async (role) => {
      const personal = before.isPersonal(role) || after.isPersonal(role)
      const [usersWithRole, users] = await Promise.all([
        db.user.count({ where: { role } }),
        personal
          ? db.user.findMany({ where: { role }, select: { id: true, username: true, role: true }, orderBy: { id: 'asc' }, take: IMPACT_USER_SAMPLE })
          : Promise.resolve([{ id: 0, username: '', role }]),
      ])
      const abilities = users.map((user) => ({ old: before.abilityFor(user), next: after.abilityFor(user) }))
      const changeOf = (subject: string, action: string) =>
        changeFor(db, subject, abilities.map(({ old, next }) => ({ before: before.filterFor(old, action, subject), after: after.filterFor(next, action, subject) })))
      const [pv, pw, tv, tw] = await Promise.all(
        IMPACT_SUBJECTS.flatMap((subject) => [changeOf(subject, IMPACT_ACTIONS.visible), changeOf(subject, IMPACT_ACTIONS.writable)]),
      )
      return {
        role,
        scope: personal ? ('per-user' as const) : ('role' as const),
        usersWithRole,
        usersConsidered: personal ? users.length : usersWithRole,
        Project: { visible: pv!, writable: pw! },
        Task: { visible: tv!, writable: tw! },
      }
    }),
  )
}

// ---------------------------------------------------------------------------------------------
// Safety and activation

/**
 * Why activating `policy` would lock everyone out of policy or user management, if it would.
 * A database where nobody can already (no admin yet) is not locked by the change.
 */
export async function lockoutReason(db: PrismaClient | Prisma.TransactionClient, policy: CompiledPolicy, active?: CompiledPolicy): Promise<string | null> {
  const reason = await managementGap(db, policy)
  if (reason && active && (await managementGap(db, active))) return null
  return reason
}

async function managementGap(db: PrismaClient | Prisma.TransactionClient, policy: CompiledPolicy): Promise<string | null> {
  for (const [what, action, subject] of [
    ['manage policies', 'create', 'PolicyVersion'],
    ['manage users', 'update', 'User'],
  ] as const) {
    const roles = ROLES.filter((role) => policy.abilityFor({ id: 0, username: '', role }).can(action, subject))
    if (roles.length === 0) return `No role could ${what} any more (no rule allows ${action} on ${subject}).`
    if ((await db.user.count({ where: { role: { in: [...roles] } } })) === 0) {
      return `Nobody could ${what} any more: no user holds ${roles.map((r) => `"${r}"`).join(' or ')}.`
    }
  }
  return null
}

export function invalidPolicyProblem(errors: PolicyError[]): HttpProblem {
  return new HttpProblem(400, 'policy-invalid', `The policy has ${errors.length} error(s): ${errors.map((e) => `${[e.role, e.ruleId && `rule "${e.ruleId}"`, e.path].filter(Boolean).join(' ')}: ${e.message}`).join('; ')}`, {
    errors: errors.map((e) => ({ field: e.path === 'table' ? 'table' : `rules[${e.ruleId ?? e.role}]${e.path ? `.${e.path}` : ''}`, role: e.role, ruleId: e.ruleId, message: e.message })),
  })
}

/** Parses `If-Match: "7"` (or W/"7"); 428 without it. */
export function expectedVersion(ifMatch: string | undefined): number {
  if (!ifMatch) throw new HttpProblem(428, 'precondition-required', 'Send If-Match with the ETag of the policy version your change is based on.')
  const match = /^(?:W\/)?"(\d+)"$/.exec(ifMatch.trim())
  if (!match) throw new HttpProblem(400, 'invalid-if-match', 'If-Match must be a policy ETag such as "7".')
  return Number(match[1])
}

export async function activateProposal(db: PrismaClient, store: PolicyStore, proposal: Proposal, basedOn: number, author: Author, kind = 'policy.activate'): Promise<ActivePolicy> {
  const active = store.snapshot
  if (basedOn !== active.version) throw conflict(active.version)
  const checked = checkProposal(proposal, active)
  if (checked.errors.length) throw invalidPolicyProblem(checked.errors)
  const failing = checked.results!.filter((r) => !r.pass)
  if (failing.length) {
    throw new HttpProblem(422, 'decision-table-failed', `${failing.length} decision-table row(s) fail with this policy; send an updated table if the change is intended.`, {
      failures: tableReport(failing).rows,
    })
  }
  const lockout = await lockoutReason(db, checked.compiled!, active.policy)
  if (lockout) throw new HttpProblem(422, 'policy-lockout', lockout)
  const next = { rules: proposal.rules, table: proposal.table ?? rowsToData(active.table) }
  const message = proposal.message ?? ''
  try {
    return await store.activate(next, basedOn, author, message, async (tx, version) => {
      await tx.auditEvent.create({
        data: {
          kind,
          userId: author.id,
          username: author.username,
          policyVersion: version,
          detail: { basedOn, message, rules: diffRules(active.rules, next.rules), tableChanged: proposal.table !== undefined, flips: checked.flips.length },
        },
      })
    })
  } catch (error) {
    if (error instanceof VersionConflictError) throw conflict(error.current)
    throw error
  }
}

function conflict(current: number): HttpProblem {
  return new HttpProblem(409, 'policy-version-conflict', `The policy changed meanwhile: the active version is ${current}. Reload it and apply your change again.`, { currentVersion: current }, { etag: `"${current}"` })
}
