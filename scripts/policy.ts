// npm run policy -- export <file> | import <file> [message] | validate <file> | diff <file>
// For admins who keep the policy in git. Works on the database the server uses (DATABASE_URL,
// else the embedded one under DATA_DIR) with the same validation, decision table and impact
// code as the admin API. <file> is JSON: {rules, table?} as the API speaks it, or a policies
// directory (rules.json + decision-table.md).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { loadConfig, loadDotEnv } from '../src/config.ts'
import { migrateIfNeeded } from '../src/db/migrations.ts'
import { openDriver } from '../src/db/open.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'
import { activate } from '../src/policy/activation.ts'
import { DecisionTableError, formatResults, rowsToData } from '../src/policy/decision-table.ts'
import { parseRuleDocument, PolicyFormatError, readPoliciesDir } from '../src/policy/files.ts'
import type { RoleImpact } from '../src/policy/impact.ts'
import { review, type Proposal } from '../src/policy/review.ts'
import { formatPolicyError } from '../src/policy/validate.ts'
import { PolicyStore } from '../src/policy/versions.ts'
import { toRules, type RoleRule } from '../src/shared/rule-format.ts'

const [command, file, ...rest] = process.argv.slice(2)
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

async function main(): Promise<number> {
  if (!['export', 'import', 'validate', 'diff'].includes(command ?? '') || !file) {
    console.error('usage: npm run policy -- export|import|validate|diff <file>')
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
    return results.failed === 0 && !reviewed.lockout ? 0 : 1
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
