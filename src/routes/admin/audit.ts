import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Prisma } from '../../generated/prisma/client.ts'
import { listPage, orderBy, page, protectedErrors } from '../schemas.ts'
import { AuditEvent, AuditQuery, type AuditFilters } from './audit-schema.ts'

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
