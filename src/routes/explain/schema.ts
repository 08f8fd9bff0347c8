import { Type } from 'typebox'
import { ACTIONS, OBJECT_SUBJECTS } from '../../shared/vocabulary.ts'

export const ExplainBody = Type.Object(
  {
    action: Type.Enum([...ACTIONS.filter((a) => a !== 'manage')]),
    subject: Type.Enum([...OBJECT_SUBJECTS]),
    id: Type.Integer({ minimum: 1, maximum: 2147483647 }),
    userId: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 2147483647, description: 'Ask about another user (needs read access to that user)' }),
    ),
  },
  { additionalProperties: false },
)

export const Explanation = Type.Object({
  allowed: Type.Boolean(),
  ruleId: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
  policyVersion: Type.Integer(),
})
