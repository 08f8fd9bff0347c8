import { Type, type Static } from 'typebox'
import { ROLE_NAME_PATTERN, RULE_ID_PATTERN, TABLE_ACTIONS, TABLE_RESOURCES, TABLE_SUBJECTS } from './vocabulary.ts'

// The format of the rules and of a rule set, below both enforcement and the policy's life
// cycle: CASL raw rules with a stable id, grouped by role in a file, flat (each naming its role)
// in the database and the admin API. Shape only; what a rule means is checked by the life cycle.

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
export type RawRule = Static<typeof RawRuleSchema>

const RoleName = Type.String({ pattern: ROLE_NAME_PATTERN })

/** Rules grouped by role, in rule order: `{ "<role>": [rule, …], … }` (policies/rules.json). */
export const RuleDocumentSchema = Type.Record(RoleName, Type.Array(RawRuleSchema))
export type RuleDocument = Static<typeof RuleDocumentSchema>

/** One rule naming its role: the flat form of the database and the admin API. */
export const RoleRuleSchema = Type.Object({ role: RoleName, ...RawRuleSchema.properties }, { additionalProperties: false })
export type RoleRule = Static<typeof RoleRuleSchema>

const MAX_RULES = 5000
export const RuleList = Type.Array(RoleRuleSchema, { maxItems: MAX_RULES })

/** One row of the decision table as stored and sent: role × action × subject × resource → outcome. */
export const DecisionRowSchema = Type.Object(
  {
    role: RoleName,
    action: Type.Enum([...TABLE_ACTIONS]),
    subject: Type.Enum([...TABLE_SUBJECTS]),
    resource: Type.Enum([...TABLE_RESOURCES]),
    expect: Type.Enum(['allow', 'deny']),
    status: Type.Integer({ minimum: 100, maximum: 599 }),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
)
export type DecisionRowData = Static<typeof DecisionRowSchema>
export const DecisionTable = Type.Array(DecisionRowSchema, { maxItems: 5000 })

/** A rule set: the rules and the decision table they must pass. */
export interface RuleSet {
  rules: RoleRule[]
  table: DecisionRowData[]
}

export function toDocument(rules: RoleRule[]): RuleDocument {
  const document: RuleDocument = {}
  for (const { role, ...rule } of rules) {
    // A role named like an Object.prototype member ("constructor") must start its own list.
    if (!Object.hasOwn(document, role)) Object.defineProperty(document, role, { value: [], enumerable: true, writable: true })
    document[role]!.push(rule)
  }
  return document
}

export function toRules(document: RuleDocument): RoleRule[] {
  return Object.entries(document).flatMap(([role, rules]) => rules.map((rule) => ({ role, ...rule })))
}
