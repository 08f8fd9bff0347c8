// npm run policy:test [-- <policies dir or rules.json> [decision-table.md]]
// Runs the decision table against the policy files in-process and prints a pass/fail table.
import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { CompiledPolicy, PolicyValidationError } from '../src/authz/compile.ts'
import { DecisionTableError, formatResults, readDecisionTable, runDecisionTable } from '../src/authz/decision-table.ts'
import { DECISION_TABLE_FILE, PolicyFormatError, readPolicyFile, RULES_FILE } from '../src/authz/policy.ts'

const [target = 'policies', tableArg] = process.argv.slice(2)
const path = resolve(target)
const rulesPath = existsSync(path) && statSync(path).isDirectory() ? join(path, RULES_FILE) : path
const tablePath = tableArg ? resolve(tableArg) : join(dirname(rulesPath), DECISION_TABLE_FILE)

try {
  const started = performance.now()
  const policy = new CompiledPolicy(readPolicyFile(rulesPath), 0)
  const results = runDecisionTable(policy, readDecisionTable(tablePath))
  console.log(formatResults(results))
  console.log(`(${rulesPath} against ${tablePath} in ${(performance.now() - started).toFixed(1)} ms)`)
  process.exitCode = results.every((r) => r.pass) ? 0 : 1
} catch (error) {
  if (error instanceof PolicyValidationError || error instanceof PolicyFormatError || error instanceof DecisionTableError) {
    console.error(error.message)
    process.exitCode = 1
  } else {
    throw error
  }
}
