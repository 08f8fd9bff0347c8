import type { CompiledRules } from '../authz/compiled-rules.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { diffRules } from '../shared/rule-diff.ts'
import { toDocument, type DecisionRowData, type RoleRule } from '../shared/rule-format.ts'
import { DecisionTableError, rowsFromData, rowsToData, runDecisionTable, type DecisionRow, type RowResult } from './decision-table.ts'
import { impactOf, type RoleImpact } from './impact.ts'
import { lockoutReason } from './lockout.ts'
import { compileRules, PolicyValidationError, type PolicyError } from './validate.ts'
import type { PolicyVersion } from './versions.ts'

// What a proposed rule set would do, against the active version: validation, the decision table
// (the proposal's own, or the active one), the rows that flip, the rule ids changed, whether it
// would lock everyone out, and (when asked) its impact on live data. The admin API's validate
// and activate, and the CLI, all review through this one function; a proposal is compiled once.

export interface Proposal {
  rules: RoleRule[]
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

interface Common {
  /** Rule ids added, removed and changed against the active version. */
  rules: ReturnType<typeof diffRules>
}

export type Review =
  | (Common & { valid: false; errors: PolicyError[] })
  | (Common & {
      valid: true
      /** The proposal compiled as the next version. */
      compiled: CompiledRules
      /** The table's verdicts, row by row and as reported. */
      results: RowResult[]
      table: TableReport
      flips: Flip[]
      lockout: string | null
      impact: RoleImpact[] | null
    })

export async function review(db: PrismaClient, active: PolicyVersion, proposal: Proposal, options: { impact: boolean }): Promise<Review> {
  const rules = diffRules(active.rules, proposal.rules)
  let rows: DecisionRow[]
  let compiled: CompiledRules
  try {
    rows = proposal.table ? rowsFromData(proposal.table) : active.table
    compiled = compileRules(toDocument(proposal.rules), active.version + 1)
  } catch (error) {
    if (error instanceof DecisionTableError) {
      return { valid: false, rules, errors: [{ role: '', ruleId: null, path: 'table', message: error.message.replace(/^line/, 'row') }] }
    }
    if (error instanceof PolicyValidationError) return { valid: false, rules, errors: error.errors }
    throw error
  }
  const results = runDecisionTable(compiled, rows)
  const before = runDecisionTable(active.compiled, rows)
  const flips = results.flatMap((after, i) => {
    const old = before[i]!
    if (old.allowed === after.allowed && old.status === after.status) return []
    const { line, role, action, subject, resource } = after.row
    return [
      {
        row: line,
        role,
        action,
        subject,
        resource,
        before: { allowed: old.allowed, status: old.status },
        after: { allowed: after.allowed, status: after.status },
      },
    ]
  })
  const [lockout, impact] = await Promise.all([
    lockoutReason(db, compiled, active.compiled),
    options.impact ? impactOf(db, active.compiled, compiled) : null,
  ])
  return { valid: true, rules, compiled, results, table: tableReport(results), flips, lockout, impact }
}

function tableReport(results: RowResult[]): TableReport {
  const rows = results.map((r) => ({
    ...rowsToData([r.row])[0]!,
    row: r.row.line,
    allowed: r.allowed,
    got: r.status,
    ruleId: r.ruleId,
    pass: r.pass,
  }))
  const failed = rows.filter((r) => !r.pass).length
  return { passed: rows.length - failed, failed, rows }
}
