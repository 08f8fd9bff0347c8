import { Type, type Static } from 'typebox'
import { TABLE_ACTIONS, TABLE_RESOURCES, TABLE_SUBJECTS, type DecisionRowData } from './decision-table.ts'
import { RawRuleSchema, type PolicyDocument } from './policy.ts'
import { ROLE_NAME_PATTERN } from './vocabulary.ts'

export { canonical, diffRules } from './rule-diff.ts'

// A policy version as the admin API, the CLI and the database see it: a flat list of rules, each
// naming its role, and the decision table the rules must pass.

export const RoleName = Type.String({ pattern: ROLE_NAME_PATTERN })

export const PolicyRuleSchema = Type.Object({ role: RoleName, ...RawRuleSchema.properties }, { additionalProperties: false })
export type PolicyRule = Static<typeof PolicyRuleSchema>

const oneOf = <const T extends string>(values: readonly T[]) => Type.Enum([...values])

export const DecisionRowSchema = Type.Object(
  {
    role: RoleName,
    action: oneOf(TABLE_ACTIONS),
    subject: oneOf(TABLE_SUBJECTS),
    resource: oneOf(TABLE_RESOURCES),
    expect: oneOf(['allow', 'deny'] as const),
    status: Type.Integer({ minimum: 100, maximum: 599 }),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
)

export const MAX_RULES = 5000
export const RuleList = Type.Array(PolicyRuleSchema, { maxItems: MAX_RULES })
export const DecisionTable = Type.Array(DecisionRowSchema, { maxItems: 5000 })

export interface PolicySet {
  rules: PolicyRule[]
  table: DecisionRowData[]
}

/** Grouped by role, in rule order: the shape of policies/rules.json and of a compiled policy. */
export function toDocument(rules: PolicyRule[]): PolicyDocument {
  const document: PolicyDocument = {}
  for (const { role, ...rule } of rules) (document[role] ??= []).push(rule)
  return document
}

export function toRules(document: PolicyDocument): PolicyRule[] {
  return Object.entries(document).flatMap(([role, rules]) => rules.map((rule) => ({ role, ...rule })))
}
