import { Type, type Static } from 'typebox'
import { ROLES } from '../../shared/roles.ts'
import { listQuery } from '../schemas.ts'

export const User = Type.Object(
  {
    id: Type.Integer(),
    username: Type.String(),
    role: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User', examples: [{ id: 1, username: 'alice', role: 'member', createdAt: '2026-11-25T09:55:00.000Z' }] },
)
export type User = Static<typeof User>

export const UserUpdate = Type.Object(
  { role: Type.String({ enum: [...ROLES], description: `One of ${ROLES.join(', ')}` }) },
  { $id: 'UserUpdate', additionalProperties: false, examples: [{ role: 'auditor' }] },
)
export type UserUpdate = Static<typeof UserUpdate>

const USER_ORDERING = ['id', 'username', 'createdAt'] as const
export const UserListQuery = listQuery(USER_ORDERING, {})

/** Never the password hash. */
export const userShape = { select: { id: true, username: true, role: true, createdAt: true } } as const

export function toUser(row: { id: number; username: string; role: string; createdAt: Date }): User {
  return { id: row.id, username: row.username, role: row.role, createdAt: row.createdAt.toISOString() }
}
