import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Value from 'typebox/value'
import { RuleDocumentSchema, toRules, type RuleDocument, type RuleSet } from '../shared/rule-format.ts'
import { parseDecisionTable, rowsToData, type DecisionRow } from './decision-table.ts'

// The policies directory: rules.json (rules grouped by role) and decision-table.md. The one
// reader of it, for the server's first version, the CLIs and the benchmarks.

export const RULES_FILE = 'rules.json'
export const DECISION_TABLE_FILE = 'decision-table.md'

export class PolicyFormatError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(`${message}\n  ${problems.join('\n  ')}`)
  }
}

/** Checks a rule document's shape; what the rules mean is checked by `validateRules`. */
export function parseRuleDocument(value: unknown, source = 'policy'): RuleDocument {
  if (Value.Check(RuleDocumentSchema, value)) return value
  const problems = [...Value.Errors(RuleDocumentSchema, value)]
    .filter((error) => error.keyword !== 'boolean')
    .map((error) => `${error.instancePath || '/'}: ${error.message}`)
  throw new PolicyFormatError(`${source} is not a valid policy document`, problems)
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new PolicyFormatError(`cannot read ${path}`, [(error as Error).message])
  }
}

export function readRuleFile(path: string): RuleDocument {
  let parsed: unknown
  try {
    parsed = JSON.parse(readText(path))
  } catch (error) {
    if (error instanceof PolicyFormatError) throw error
    throw new PolicyFormatError(`cannot read ${path}`, [(error as Error).message])
  }
  return parseRuleDocument(parsed, path)
}

/** A decision-table file, each row numbered by its line for messages. */
export function readDecisionTableFile(path: string): DecisionRow[] {
  return parseDecisionTable(readText(path))
}

/** rules.json and decision-table.md of a policies directory, as a rule set. */
export function readPoliciesDir(dir: string): RuleSet {
  return {
    rules: toRules(readRuleFile(join(dir, RULES_FILE))),
    table: rowsToData(readDecisionTableFile(join(dir, DECISION_TABLE_FILE))),
  }
}
