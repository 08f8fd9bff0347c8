import { Type } from 'typebox'
import { DecisionRowSchema, DecisionTable, RoleRuleSchema, RuleList } from '../../shared/rule-format.ts'
import { listQuery, Text } from '../schemas.ts'

export const PolicyBody = Type.Object({
  version: Type.Integer(),
  rules: Type.Array(RoleRuleSchema),
  table: Type.Array(DecisionRowSchema),
})

export const VersionSummary = Type.Object({
  version: Type.Integer(),
  author: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  message: Type.String(),
})

export const VersionDetail = Type.Object({
  ...VersionSummary.properties,
  rules: Type.Array(RoleRuleSchema),
  table: Type.Array(DecisionRowSchema),
})

export const VersionParams = Type.Object({ v: Type.Integer({ minimum: 1, maximum: 2147483647 }) }, { additionalProperties: false })

export const VersionListQuery = listQuery(['version', 'createdAt'] as const, {}, '-version')

export const ProposalBody = Type.Object(
  {
    rules: RuleList,
    table: Type.Optional(DecisionTable),
    message: Type.Optional(Text({ maxLength: 500 })),
  },
  { additionalProperties: false },
)

export const RollbackBody = Type.Object(
  { version: Type.Integer({ minimum: 1, maximum: 2147483647 }), message: Type.Optional(Text({ maxLength: 500 })) },
  { additionalProperties: false },
)

const Change = Type.Object({
  gained: Type.Integer(),
  lost: Type.Integer(),
  gainedExamples: Type.Array(Type.Integer()),
  lostExamples: Type.Array(Type.Integer()),
})
const SubjectImpact = Type.Object({ visible: Change, writable: Change })

export const ValidationReport = Type.Object({
  valid: Type.Boolean(),
  errors: Type.Array(
    Type.Object({ role: Type.String(), ruleId: Type.Union([Type.String(), Type.Null()]), path: Type.String(), message: Type.String() }),
  ),
  table: Type.Union([
    Type.Null(),
    Type.Object({
      passed: Type.Integer(),
      failed: Type.Integer(),
      rows: Type.Array(
        Type.Object({
          ...DecisionRowSchema.properties,
          row: Type.Integer(),
          allowed: Type.Boolean(),
          got: Type.Integer(),
          ruleId: Type.Union([Type.String(), Type.Null()]),
          pass: Type.Boolean(),
        }),
      ),
    }),
  ]),
  flips: Type.Array(
    Type.Object({
      row: Type.Integer(),
      role: Type.String(),
      action: Type.String(),
      subject: Type.String(),
      resource: Type.String(),
      before: Type.Object({ allowed: Type.Boolean(), status: Type.Integer() }),
      after: Type.Object({ allowed: Type.Boolean(), status: Type.Integer() }),
    }),
  ),
  impact: Type.Union([
    Type.Null(),
    Type.Array(
      Type.Object({
        role: Type.String(),
        scope: Type.String({ enum: ['role', 'per-user'] }),
        usersWithRole: Type.Integer(),
        usersConsidered: Type.Integer(),
        Project: SubjectImpact,
        Task: SubjectImpact,
      }),
    ),
  ]),
  lockout: Type.Union([Type.String(), Type.Null()]),
  rules: Type.Object({ added: Type.Array(Type.String()), removed: Type.Array(Type.String()), changed: Type.Array(Type.String()) }),
})
