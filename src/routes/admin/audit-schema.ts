import { Type } from 'typebox'
import { AUDIT_KINDS } from '../../shared/vocabulary.ts'
import { listQuery, Text } from '../schemas.ts'

/**
 * A date-time the database can compare with: `format` checks the calendar (no 30 February);
 * the pattern leaves out leap seconds (JavaScript cannot hold 23:59:60) and years before 1000
 * (PostgreSQL has no year 0, which an offset could reach).
 */
const Instant = Type.String({
  format: 'date-time',
  pattern: '^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](\\.[0-9]+)?(Z|z|[+-][0-9]{2}:[0-9]{2})$',
  description: 'RFC 3339 date-time, years 1000 to 9999, e.g. 2026-01-31T12:00:00Z',
})

export const AuditQuery = listQuery(
  ['id', 'createdAt'] as const,
  {
    kind: Type.Optional(Type.Enum([...AUDIT_KINDS])),
    userId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
    subject: Type.Optional(Text({ minLength: 1, maxLength: 60 })),
    ruleId: Type.Optional(Text({ minLength: 1, maxLength: 100 })),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
  },
  '-id',
)

export const AuditEvent = Type.Object({
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
})
