import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Type, type Static } from 'typebox'
import Value from 'typebox/value'

// The policy as data: CASL raw rules grouped by role, each with a stable id.

import { RULE_ID_PATTERN, ROLE_NAME_PATTERN } from './vocabulary.ts'

export { ACTIONS, type Action } from './vocabulary.ts'

export const RawRuleSchema = Type.Object(
  {
    id: Type.String({ pattern: RULE_ID_PATTERN, description: 'Stable identifier, named in decisions and audit records' }),
    action: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
    subject: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
    conditions: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    fields: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })])),
    inverted: Type.Optional(Type.Boolean()),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
)
export type RawPolicyRule = Static<typeof RawRuleSchema>

/** The file shape: `{ "<role>": [rule, …], … }`. */
export const PolicyFileSchema = Type.Record(Type.String({ pattern: ROLE_NAME_PATTERN }), Type.Array(RawRuleSchema))
export type PolicyDocument = Static<typeof PolicyFileSchema>

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

/** Checks the document's shape; meaning is checked by `validatePolicy`. */
export function parsePolicyDocument(value: unknown, source = 'policy'): PolicyDocument {
  if (Value.Check(PolicyFileSchema, value)) return value
  const problems = [...Value.Errors(PolicyFileSchema, value)]
    .filter((error) => error.keyword !== 'boolean')
    .map((error) => `${error.instancePath || '/'}: ${error.message}`)
  throw new PolicyFormatError(`${source} is not a valid policy document`, problems)
}

export function readPolicyFile(path: string): PolicyDocument {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new PolicyFormatError(`cannot read ${path}`, [(error as Error).message])
  }
  return parsePolicyDocument(parsed, path)
}

export function readPolicyDir(dir: string): PolicyDocument {
  return readPolicyFile(join(dir, RULES_FILE))
}
