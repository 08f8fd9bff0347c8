import { Type, type Static } from 'typebox'
import { MEMBER_ROLES } from '../../shared/vocabulary.ts'
import { listQuery } from '../schemas.ts'

const id = Type.Integer({ minimum: 1, maximum: 2147483647 })
const role = Type.Enum([...MEMBER_ROLES], { description: 'What the member may do: the policy gives each role its meaning' })

export const Member = Type.Object(
  {
    id: Type.Integer({ description: 'The membership itself, as explain and the audit log name it' }),
    projectId: Type.Integer(),
    userId: Type.Integer(),
    username: Type.String(),
    role,
    createdAt: Type.String({ format: 'date-time', description: 'When the project was shared with this user' }),
  },
  {
    $id: 'Member',
    examples: [{ id: 1, projectId: 1, userId: 2, username: 'bob', role: 'viewer', createdAt: '2026-12-02T10:00:00.000Z' }],
  },
)
export type Member = Static<typeof Member>

export const MemberCreate = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 150 }), role },
  { $id: 'MemberCreate', additionalProperties: false, examples: [{ username: 'bob', role: 'editor' }] },
)

export const MemberUpdate = Type.Object({ role }, { $id: 'MemberUpdate', additionalProperties: false, examples: [{ role: 'viewer' }] })

export const MemberParams = Type.Object({ id, userId: id }, { additionalProperties: false })

export const MemberListQuery = listQuery(['id', 'createdAt', 'role'], {})

/** What the response needs beyond the row itself. */
export const memberShape = { include: { user: { select: { username: true } } } } as const

export function toMember(row: {
  id: number
  projectId: number
  userId: number
  role: string
  createdAt: Date
  user: { username: string }
}): Member {
  return {
    id: row.id,
    projectId: row.projectId,
    userId: row.userId,
    username: row.user.username,
    role: row.role as Member['role'],
    createdAt: row.createdAt.toISOString(),
  }
}

/** A membership by its unique key, as the authorizer looks it up. */
export const membershipKey = (params: Static<typeof MemberParams>) => ({
  projectId_userId: { projectId: params.id, userId: params.userId },
})
