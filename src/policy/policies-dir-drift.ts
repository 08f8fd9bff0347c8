import { relative } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import { canonical, diffRules } from '../shared/rule-diff.ts'
import { toDocument } from '../shared/rule-format.ts'
import { DecisionTableError, rowsToData } from './decision-table.ts'
import { PolicyFormatError, readPoliciesDir } from './files.ts'
import { compileRules, formatPolicyError, PolicyValidationError } from './validate.ts'
import type { PolicyVersion } from './versions.ts'

// policies/ seeds a new database; after that the database's active version rules. An edited
// policies/ must therefore never be mistaken for the policy in force: at startup the server
// compares the two and says how to apply the files, or why they could not be.

/** The command that activates `dir` (`npm run policy -- import policies` for the default). */
export function importCommand(dir: string): string {
  return `npm run policy -- import ${relative(process.cwd(), dir) || '.'}`
}

export type PoliciesDirState =
  | { state: 'same' }
  | { state: 'differs'; rules: ReturnType<typeof diffRules>; rulesReordered: boolean; tableChanged: boolean }
  | { state: 'invalid'; problems: string[] }

export function comparePoliciesDir(dir: string, active: PolicyVersion): PoliciesDirState {
  let files
  try {
    files = readPoliciesDir(dir)
    compileRules(toDocument(files.rules), active.version + 1)
  } catch (error) {
    if (error instanceof PolicyValidationError) return { state: 'invalid', problems: error.errors.map(formatPolicyError) }
    if (error instanceof PolicyFormatError || error instanceof DecisionTableError) return { state: 'invalid', problems: [error.message] }
    throw error
  }
  const rulesSame = canonical(files.rules) === canonical(active.rules)
  const tableChanged = canonical(files.table) !== canonical(rowsToData(active.table))
  if (rulesSame && !tableChanged) return { state: 'same' }
  const rules = diffRules(active.rules, files.rules)
  const rulesReordered = !rulesSame && !rules.added.length && !rules.removed.length && !rules.changed.length
  return { state: 'differs', rules, rulesReordered, tableChanged }
}

/** Logs a warning if `dir` holds another policy than the active version, an error if it is invalid. */
export function reportPoliciesDir(dir: string, active: PolicyVersion, log: FastifyBaseLogger): PoliciesDirState {
  const result = comparePoliciesDir(dir, active)
  if (result.state === 'differs') {
    const { rules, rulesReordered, tableChanged } = result
    log.warn(
      { policiesDir: dir, activeVersion: active.version, rules, rulesReordered, tableChanged },
      `${dir} differs from the active policy version ${active.version}, which stays in force; to activate the files: ${importCommand(dir)}`,
    )
  } else if (result.state === 'invalid') {
    log.error(
      { policiesDir: dir, activeVersion: active.version, problems: result.problems },
      `${dir} is invalid and cannot be imported; serving the active policy version ${active.version}. Fix the files, check them with \`npm run policy -- validate ${relative(process.cwd(), dir) || '.'}\`, then: ${importCommand(dir)}`,
    )
  }
  return result
}
