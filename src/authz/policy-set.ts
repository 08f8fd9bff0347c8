import { Type, type Static } from 'typebox'
import { TABLE_ACTIONS, TABLE_RESOURCES, TABLE_SUBJECTS, type DecisionRowData } from './decision-table.ts'
import { RawRuleSchema, type PolicyDocument } from './policy.ts'

// A policy version as the admin API, the CLI and the database see it: a flat list of rules, each
// naming its role, and the decision table the rules must pass.

export const RoleName = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,49}$' })

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

/** What changed between two rule lists, by rule id. */
export function diffRules(before: PolicyRule[], after: PolicyRule[]) {
  const old = new Map(before.map((rule) => [rule.id, rule]))
  const next = new Map(after.map((rule) => [rule.id, rule]))
  return {
    added: after.filter((rule) => !old.has(rule.id)).map((rule) => rule.id),
    removed: before.filter((rule) => !next.has(rule.id)).map((rule) => rule.id),
    changed: after.filter((rule) => old.has(rule.id) && canonical(old.get(rule.id)) !== canonical(rule)).map((rule) => rule.id),
  }
}

/** JSON with keys sorted, so a rule read back from the database (JSONB reorders keys) compares equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item) =>
    item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1))) : item,
  )
}
