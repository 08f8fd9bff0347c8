import { Type, type Static } from 'typebox'
import { page } from '../schemas.ts'

const ruleId = Type.Union([Type.String(), Type.Null()])

// Not a named component: used twice in one answer, which the serializer refuses for named schemas.
const AccessGrants = Type.Object(
  { read: Type.Optional(ruleId), update: Type.Optional(ruleId), delete: Type.Optional(ruleId), createTask: Type.Optional(ruleId) },
  {
    additionalProperties: false,
    description: 'What is allowed, each with the deciding rule',
  },
)

export const RoleAccess = Type.Object(
  {
    role: Type.String(),
    method: Type.Enum(['inverted', 'scan'], {
      description: '`scan`: every user of the role decided one by one',
    }),
    count: Type.Integer({ description: 'Users holding the role' }),
    grants: AccessGrants,
    listed: Type.Integer({ description: 'Users of the role in `users`' }),
  },
  {
    $id: 'RoleAccess',
    description: 'Every user of the role has `grants`, but those in `users`',
  },
)

export const UserGrants = Type.Object(
  { userId: Type.Integer(), username: Type.String(), role: Type.String(), grants: AccessGrants },
  {
    $id: 'UserGrants',
    description: 'A user whose grants differ from their role’s',
  },
)

export const ProjectAccess = Type.Object(
  { projectId: Type.Integer(), policyVersion: Type.Integer(), roles: Type.Array(RoleAccess), users: page(UserGrants) },
  {
    $id: 'ProjectAccess',
    examples: [
      {
        projectId: 1,
        policyVersion: 1,
        roles: [{ role: 'member', method: 'inverted', count: 40, grants: {}, listed: 1 }],
        users: {
          items: [{ userId: 2, username: 'bob', role: 'member', grants: { read: 'member.projects.shared' } }],
          total: 1,
          limit: 50,
          offset: 0,
        },
      },
    ],
  },
)
export type ProjectAccess = Static<typeof ProjectAccess>
