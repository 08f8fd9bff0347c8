import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { page, protectedErrors } from '../schemas.ts'
import { AuditEvent, AuditQuery } from './audit-schema.ts'

// Policy changes and denied requests, newest first by default.
const audit: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('', {
    schema: {
      tags: ['admin'],
      operationId: 'listAuditEvents',
      summary: 'Audit log',
      querystring: AuditQuery,
      response: { 200: page(AuditEvent), ...protectedErrors },
    },
    handler: async (request) => {
      const query = request.query
      request.authz.assertAccess('read', 'AuditEvent')
      await fastify.audit.flush()
      const createdAt = { gte: query.from ? new Date(query.from) : undefined, lte: query.to ? new Date(query.to) : undefined }
      return request.authz.list('AuditEvent', query, {
        filters: [{ kind: query.kind, userId: query.userId, subject: query.subject, ruleId: query.ruleId, createdAt }],
        toItem: (row) => ({ ...row, createdAt: row.createdAt.toISOString() }),
      })
    },
  })
}

export default audit
