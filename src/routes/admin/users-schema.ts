import { Type, type Static } from 'typebox'
import { ROLES } from '../../shared/roles.ts'
import { listQuery } from '../schemas.ts'

export const User = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  role: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
})
export type User = Static<typeof User>

export const UserUpdate = Type.Object(
  { role: Type.String({ enum: [...ROLES], description: `One of ${ROLES.join(', ')}` }) },
  { additionalProperties: false },
)
export type UserUpdate = Static<typeof UserUpdate>

const USER_ORDERING = ['id', 'username', 'createdAt'] as const
export const UserListQuery = listQuery(USER_ORDERING, {})

/** Never the password hash. */
export const userShape = { select: { id: true, username: true, role: true, createdAt: true } } as const

export function toUser(row: { id: number; username: string; role: string; createdAt: Date }): User {
  return { id: row.id, username: row.username, role: row.role, createdAt: row.createdAt.toISOString() }
}
