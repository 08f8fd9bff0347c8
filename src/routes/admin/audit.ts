import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Prisma } from '../../generated/prisma/client.ts'
import { listPage, listQuery, orderBy, page, protectedErrors, Text, type ListQuery } from '../schemas.ts'

const AuditQuery = listQuery(
  ['id', 'createdAt'] as const,
  {
  kind: Type.Optional(Type.Enum(['policy.activate', 'policy.rollback', 'request.denied'])),
  userId: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })),
  subject: Type.Optional(Text({ minLength: 1, maxLength: 60 })),
  ruleId: Type.Optional(Text({ minLength: 1, maxLength: 100 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  },
  '-id',
)
type AuditFilters = ListQuery & { kind?: string; userId?: number; subject?: string; ruleId?: string; from?: string; to?: string }

const AuditEvent = Type.Object({
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

// Policy changes and denied requests, newest first by default.
const audit: FastifyPluginAsyncTypebox = async (fastify) => {
  const { db } = fastify
  fastify.get('', {
    schema: { tags: ['admin'], summary: 'Audit log', querystring: AuditQuery, response: { 200: page(AuditEvent), ...protectedErrors } },
    handler: async (request) => {
      const query = request.query as AuditFilters
      request.authz.assertAccess('read', 'AuditEvent')
      await fastify.audit.flush()
      const where: Prisma.AuditEventWhereInput = {
        AND: [
          request.authz.where('read', 'AuditEvent'),
          {
            kind: query.kind,
            userId: query.userId,
            subject: query.subject,
            ruleId: query.ruleId,
            createdAt: { gte: query.from ? new Date(query.from) : undefined, lte: query.to ? new Date(query.to) : undefined },
          },
        ],
      }
      return listPage(
        db.auditEvent.findMany({ where, orderBy: orderBy(query.ordering), skip: query.offset, take: query.limit }),
        db.auditEvent.count({ where }),
        query,
        (row) => ({ ...row, createdAt: row.createdAt.toISOString() }),
      )
    },
  })
}

export default audit
