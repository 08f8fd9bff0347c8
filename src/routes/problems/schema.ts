import { Type, type Static } from 'typebox'

export const ProblemTypeSchema = Type.Object(
  {
    type: Type.String({ format: 'uri-reference', description: 'As it appears in problem bodies' }),
    title: Type.String(),
    status: Type.Union([Type.Integer(), Type.Null()], { description: 'null: answered with the status of the error it stands for' }),
    explanation: Type.String({ description: 'What happened and what to do about it (Markdown code spans)' }),
  },
  {
    $id: 'ProblemType',
    description: 'A problem type this API answers with',
    examples: [
      {
        type: '/problems/forbidden',
        title: 'Forbidden by the policy',
        status: 403,
        explanation: 'You can see this object but the policy does not allow this action on it …',
      },
    ],
  },
)
export type ProblemTypeSchema = Static<typeof ProblemTypeSchema>

export const ProblemTypeList = Type.Array(ProblemTypeSchema)

export const ProblemTypeParams = Type.Object(
  { name: Type.String({ pattern: '^[a-z0-9-]{1,64}$', description: 'The last segment of a problem `type`' }) },
  { additionalProperties: false },
)

export const Html = Type.String({ description: 'The same, as a page for people' })
