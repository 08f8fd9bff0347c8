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
  { $id: 'ExplainRequest', additionalProperties: false, examples: [{ action: 'update', subject: 'Project', id: 2 }] },
)

export const Explanation = Type.Object(
  {
    allowed: Type.Boolean(),
    ruleId: Type.Union([Type.String(), Type.Null()]),
    reason: Type.String(),
    policyVersion: Type.Integer(),
  },
  {
    $id: 'Explanation',
    examples: [{ allowed: true, ruleId: 'member.projects.own', reason: 'Members manage only the projects they own.', policyVersion: 1 }],
  },
)
