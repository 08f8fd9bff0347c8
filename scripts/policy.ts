// npm run policy -- export <file> | import <file> [message] | validate <file> [--accept] | diff <file>
// For admins who keep the policy in git. Works on the database the server uses (DATABASE_URL,
// else the embedded one under DATA_DIR) with the same validation, decision table and impact
// code as the admin API. <file> is JSON: {rules, table?} as the API speaks it, or a policies
// directory (rules.json + decision-table.md). `validate <dir> --accept` writes the outcomes of
// an intended change into the directory's decision-table.md (the rows that fail become what the
// new rules answer), like a snapshot update.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, loadDotEnv } from '../src/config.ts'
import { migrateIfNeeded } from '../src/db/migrations.ts'
import { openDriver } from '../src/db/open.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'
import { activate } from '../src/policy/activation.ts'
import { DecisionTableError, formatResults, parseDecisionTable, rowsToData, type RowResult } from '../src/policy/decision-table.ts'
import { DECISION_TABLE_FILE, parseRuleDocument, PolicyFormatError, readPoliciesDir } from '../src/policy/files.ts'
import type { RoleImpact } from '../src/policy/impact.ts'
import { review, type Proposal } from '../src/policy/review.ts'
import { rewriteOutcomes } from '../src/policy/table-file.ts'
import { formatPolicyError } from '../src/policy/validate.ts'
import { PolicyStore } from '../src/policy/versions.ts'
import { toRules, type RoleRule } from '../src/shared/rule-format.ts'

const args = process.argv.slice(2)
const accept = args.includes('--accept')
const [command, file, ...rest] = args.filter((arg) => arg !== '--accept')
loadDotEnv()

function readProposal(path: string): Proposal {
  if (statSync(path).isDirectory()) return readPoliciesDir(path)
  const data = JSON.parse(readFileSync(path, 'utf8')) as { rules?: RoleRule[]; table?: Proposal['table']; message?: string }
  if (Array.isArray(data.rules)) return { rules: data.rules, table: data.table, message: data.message }
  return { rules: toRules(parseRuleDocument(data, path)) }
}

function printImpact(impact: RoleImpact[]): void {
  console.log('\nimpact on live data (gained / lost):')
  for (const role of impact) {
    const who = role.scope === 'role' ? `all ${role.usersWithRole} users` : `${role.usersConsidered} of ${role.usersWithRole} users`
    const cell = (c: { gained: number; lost: number }) => `+${c.gained}/-${c.lost}`
    console.log(
      `  ${role.role.padEnd(8)} (${who}): projects visible ${cell(role.Project.visible)}, writable ${cell(role.Project.writable)}; tasks visible ${cell(role.Task.visible)}, writable ${cell(role.Task.writable)}`,
    )
  }
}

/** Writes what the rules answer into the failing rows of `dir`'s decision table; returns how many. */
function acceptOutcomes(dir: string, results: RowResult[]): number {
  const path = join(dir, DECISION_TABLE_FILE)
  const text = readFileSync(path, 'utf8')
  // The proposal's rows are the file's rows in order; the file's parse knows their lines.
  const lines = parseDecisionTable(text).map((row) => row.line)
  const changes = results.flatMap((result, i) =>
    result.pass ? [] : [{ line: lines[i]!, expect: result.allowed ? ('allow' as const) : ('deny' as const), status: result.status }],
  )
  if (!changes.length) return 0
  writeFileSync(path, rewriteOutcomes(text, changes))
  console.log(`\naccepted ${changes.length} row(s) in ${path}:`)
  for (const [i, change] of changes.entries()) {
    const { row } = results.filter((result) => !result.pass)[i]!
    console.log(
      `  line ${change.line}: ${row.role} ${row.action} ${row.subject} ${row.resource}: ${row.expect} ${row.status} → ${change.expect} ${change.status}`,
    )
  }
  return changes.length
}

async function main(): Promise<number> {
  if (!['export', 'import', 'validate', 'diff'].includes(command ?? '') || !file || (accept && command !== 'validate')) {
    console.error('usage: npm run policy -- export|import|validate|diff <file>  (validate <policies dir> --accept)')
    return 2
  }
  if (accept && !(existsSync(file) && statSync(file).isDirectory())) {
    console.error(`--accept rewrites the decision-table.md of a policies directory; ${file} is not a directory`)
    return 2
  }
  const config = loadConfig()
  const driver = await openDriver(config)
  const db = new PrismaClient({ adapter: driver.factory })
  try {
    await migrateIfNeeded(db, driver.factory)
    const store = await PolicyStore.open(db, () => readPoliciesDir(config.policiesDir))
    const active = store.snapshot
    if (command === 'export') {
      writeFileSync(file, `${JSON.stringify({ version: active.version, rules: active.rules, table: rowsToData(active.table) }, null, 2)}\n`)
      console.log(`exported version ${active.version} to ${file}`)
      return 0
    }
    if (!existsSync(file)) {
      console.error(`${file} does not exist`)
      return 2
    }
    const proposal = readProposal(file)
    if (command === 'import') {
      const message = rest.join(' ') || proposal.message || `Imported from ${file}`
      const result = await activate(db, store, { ...proposal, message }, active.version, { id: null, username: 'cli' })
      switch (result.outcome) {
        case 'activated':
          console.log(`activated version ${result.active.version} (was ${result.previous})`)
          return 0
        case 'stale':
          console.error(`refused (policy-version-conflict): the active version changed to ${result.current} meanwhile; run again`)
          return 1
        case 'invalid':
          console.error(`refused (policy-invalid): ${result.errors.length} error(s)`)
          for (const error of result.errors) console.error(`  ${formatPolicyError(error)}`)
          return 1
        case 'table-failed':
          console.error(`refused (decision-table-failed): ${result.failures.length} decision-table row(s) fail with this policy`)
          for (const failure of result.failures) console.error(`  ${JSON.stringify(failure)}`)
          return 1
        case 'lockout':
          console.error(`refused (policy-lockout): ${result.reason}`)
          return 1
      }
    }
    const reviewed = await review(db, active, proposal, { impact: true })
    const changes = reviewed.rules
    console.log(
      `against active version ${active.version}: rules added ${changes.added.length}, removed ${changes.removed.length}, changed ${changes.changed.length}`,
    )
    for (const [kind, ids] of Object.entries(changes)) for (const id of ids) console.log(`  ${kind.padEnd(7)} ${id}`)
    if (!reviewed.valid) {
      console.log(`\n${reviewed.errors.length} error(s):`)
      for (const error of reviewed.errors) console.log(`  ${formatPolicyError(error)}`)
      return 1
    }
    const results = reviewed.table
    if (command === 'validate') console.log(`\n${formatResults(reviewed.results)}`)
    else console.log(`\n${results.failed} of ${results.rows.length} decision-table rows fail`)
    console.log(`\n${reviewed.flips.length} row(s) flip:`)
    for (const f of reviewed.flips)
      console.log(
        `  row ${f.row}: ${f.role} ${f.action} ${f.subject} ${f.resource}: ${f.before.allowed ? 'allow' : 'deny'} ${f.before.status} → ${f.after.allowed ? 'allow' : 'deny'} ${f.after.status}`,
      )
    printImpact(reviewed.impact!)
    if (reviewed.lockout) console.log(`\nlockout: ${reviewed.lockout}`)
    const accepted = accept ? acceptOutcomes(file, reviewed.results) : 0
    return results.failed - accepted === 0 && !reviewed.lockout ? 0 : 1
  } catch (error) {
    if (error instanceof DecisionTableError || error instanceof PolicyFormatError || error instanceof SyntaxError) {
      console.error(error.message)
      return 1
    }
    throw error
  } finally {
    await db.$disconnect()
    await driver.close()
  }
}

process.exitCode = await main()
