// npm run policy -- export <file> | import <file> [message] | validate <file> | diff <file>
// For admins who keep the policy in git. Works on the database the server uses (DATABASE_URL,
// else the embedded one under DATA_DIR) with the same validation, decision table and impact
// code as the admin API. <file> is JSON: {rules, table?} as the API speaks it, or a policies
// directory (rules.json + decision-table.md).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DecisionTableError, formatResults, readDecisionTable, rowsToData } from '../src/authz/decision-table.ts'
import { activateProposal, checkProposal, impactOf, lockoutReason, type Proposal, type RoleImpact } from '../src/authz/policy-admin.ts'
import { DECISION_TABLE_FILE, parsePolicyDocument, readPolicyDir } from '../src/authz/policy.ts'
import { diffRules, toRules, type PolicyRule } from '../src/authz/policy-set.ts'
import { formatPolicyError } from '../src/authz/compile.ts'
import { PolicyStore } from '../src/authz/store.ts'
import { loadConfig } from '../src/config.ts'
import { migrateIfNeeded } from '../src/db/migrations.ts'
import { openDriver } from '../src/db/open.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'
import { HttpProblem } from '../src/lib/problem.ts'

const [command, file, ...rest] = process.argv.slice(2)

function readProposal(path: string): Proposal {
  if (statSync(path).isDirectory()) {
    return { rules: toRules(readPolicyDir(path)), table: rowsToData(readDecisionTable(join(path, DECISION_TABLE_FILE))) }
  }
  const data = JSON.parse(readFileSync(path, 'utf8')) as { rules?: PolicyRule[]; table?: Proposal['table']; message?: string }
  if (Array.isArray(data.rules)) return { rules: data.rules, table: data.table, message: data.message }
  return { rules: toRules(parsePolicyDocument(data, path)) }
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
    const store = await PolicyStore.open(db, () => ({
      rules: toRules(readPolicyDir(config.policiesDir)),
      table: rowsToData(readDecisionTable(join(config.policiesDir, DECISION_TABLE_FILE))),
    }))
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
      const next = await activateProposal(db, store, { ...proposal, message: rest.join(' ') || proposal.message || `Imported from ${file}` }, active.version, { id: null, username: 'cli' })
      console.log(`activated version ${next.version} (was ${active.version})`)
      return 0
    }
    const checked = checkProposal(proposal, active)
    const changes = diffRules(active.rules, proposal.rules)
    console.log(`against active version ${active.version}: rules added ${changes.added.length}, removed ${changes.removed.length}, changed ${changes.changed.length}`)
    for (const [kind, ids] of Object.entries(changes)) for (const id of ids) console.log(`  ${kind.padEnd(7)} ${id}`)
    if (checked.errors.length) {
      console.log(`\n${checked.errors.length} error(s):`)
      for (const error of checked.errors) console.log(`  ${formatPolicyError(error)}`)
      return 1
    }
    if (command === 'validate') console.log(`\n${formatResults(checked.results!)}`)
    else console.log(`\n${checked.results!.filter((r) => !r.pass).length} of ${checked.results!.length} decision-table rows fail`)
    console.log(`\n${checked.flips.length} row(s) flip:`)
    for (const f of checked.flips) console.log(`  row ${f.row}: ${f.role} ${f.action} ${f.subject} ${f.resource}: ${f.before.allowed ? 'allow' : 'deny'} ${f.before.status} → ${f.after.allowed ? 'allow' : 'deny'} ${f.after.status}`)
    printImpact(await impactOf(db, active.policy, checked.compiled!))
    const lockout = await lockoutReason(db, checked.compiled!, active.policy)
    if (lockout) console.log(`\nlockout: ${lockout}`)
    return checked.results!.every((r) => r.pass) && !lockout ? 0 : 1
  } catch (error) {
    if (error instanceof HttpProblem) {
      console.error(`refused (${error.slug}): ${error.detail}`)
      for (const failure of (error.extensions.failures as Array<Record<string, unknown>> | undefined) ?? []) console.error(`  ${JSON.stringify(failure)}`)
      for (const item of (error.extensions.errors as Array<{ field?: string; message: string }> | undefined) ?? []) console.error(`  ${item.field}: ${item.message}`)
      return 1
    }
    if (error instanceof DecisionTableError || error instanceof SyntaxError) {
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
