import { Type } from 'typebox'
import { AUDIT_KINDS } from '../../shared/vocabulary.ts'
import { listQuery, Text } from '../schemas.ts'

export const AuditQuery = listQuery(
  ['id', 'createdAt'] as const,
  {
    kind: Type.Optional(Type.Enum([...AUDIT_KINDS])),
    userId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
    subject: Type.Optional(Text({ minLength: 1, maxLength: 60 })),
    ruleId: Type.Optional(Text({ minLength: 1, maxLength: 100 })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
  },
  '-id',
)

export const AuditEvent = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.String(),
    userId: Type.Union([Type.Integer(), Type.Null()]),
    username: Type.Union([Type.String(), Type.Null()]),
    action: Type.Union([Type.String(), Type.Null()]),
    subject: Type.Union([Type.String(), Type.Null()]),
    objectId: Type.Union([Type.Integer(), Type.Null()]),
    ruleId: Type.Union([Type.String(), Type.Null()]),
    policyVersion: Type.Union([Type.Integer(), Type.Null()]),
    requestId: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.Integer(), Type.Null()]),
    detail: Type.Unknown(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'AuditEvent' },
)
