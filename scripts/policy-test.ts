// npm run policy:test [-- <policies dir or rules.json> [decision-table.md]]
// Runs the decision table against the policy files in-process and prints a pass/fail table.
import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { DecisionTableError, formatResults, runDecisionTable } from '../src/policy/decision-table.ts'
import { DECISION_TABLE_FILE, PolicyFormatError, readDecisionTableFile, readRuleFile, RULES_FILE } from '../src/policy/files.ts'
import { compileRules, PolicyValidationError } from '../src/policy/validate.ts'

const [target = 'policies', tableArg] = process.argv.slice(2)
const path = resolve(target)
const rulesPath = existsSync(path) && statSync(path).isDirectory() ? join(path, RULES_FILE) : path
const tablePath = tableArg ? resolve(tableArg) : join(dirname(rulesPath), DECISION_TABLE_FILE)

try {
  const started = performance.now()
  const results = runDecisionTable(compileRules(readRuleFile(rulesPath), 0), readDecisionTableFile(tablePath))
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
