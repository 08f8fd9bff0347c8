import { Type, type Static } from 'typebox'
import { REACH_ACTIONS, REACH_SUBJECTS } from '../../authz/access.ts'

export const Reach = Type.Object(
  {
    subject: Type.Enum([...REACH_SUBJECTS]),
    action: Type.Enum([...REACH_ACTIONS]),
    count: Type.Integer({ description: 'Readable objects the action is allowed on' }),
    ids: Type.Array(Type.Integer(), { description: 'Their ids, ascending, paged' }),
    rules: Type.Array(Type.Object({ ruleId: Type.Union([Type.String(), Type.Null()]), count: Type.Integer() }), {
      description: 'The allowing rules, in the order tried, with the objects each decides',
    }),
  },
  { $id: 'Reach' },
)

export const UserAccess = Type.Object(
  {
    user: Type.Object({ id: Type.Integer(), username: Type.String(), role: Type.String() }),
    policyVersion: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
    reach: Type.Array(Reach, { description: 'Only what the caller may read too' }),
  },
  {
    $id: 'UserAccess',
    examples: [
      {
        user: { id: 2, username: 'bob', role: 'member' },
        policyVersion: 1,
        limit: 50,
        offset: 0,
        reach: [{ subject: 'Project', action: 'read', count: 1, ids: [4], rules: [{ ruleId: 'member.projects.own', count: 1 }] }],
      },
    ],
  },
)
export type UserAccess = Static<typeof UserAccess>
