import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { HttpProblem } from '../../http/problem.ts'
import { ProblemSchema } from '../schemas.ts'

const Status = Type.Object({ status: Type.String() })
const Readiness = Type.Object({
  status: Type.String(),
  audit: Type.Object(
    {
      queued: Type.Integer(),
      dropped: Type.Integer(),
      failed: Type.Integer(),
    },
    { description: 'Records of denied requests: waiting to be written, shed by a full queue, and refused by the database (since start)' },
  ),
  accounts: Type.Object(
    {
      following: Type.Boolean(),
      entries: Type.Integer(),
      hits: Type.Integer(),
      misses: Type.Integer(),
      bypassed: Type.Integer(),
      invalidations: Type.Integer(),
    },
    {
      description:
        "Callers' accounts kept in memory: whether account changes are being followed (entries are served only then), entries, and since start: requests served from memory, requests that read the database while following, requests that read it past the cache (not following, or no round trip), and invalidations",
    },
  ),
})

const health: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/health', {
    schema: {
      tags: ['health'],
      operationId: 'getHealth',
      summary: 'Liveness: the process answers',
      security: [],
      response: { 200: Status },
    },
    handler: async () => ({ status: 'ok' }),
  })

  fastify.get('/ready', {
    schema: {
      tags: ['health'],
      operationId: 'getReadiness',
      summary: 'Readiness: the database answers',
      security: [],
      response: { 200: Readiness, 503: ProblemSchema },
    },
    handler: async () => {
      try {
        await fastify.db.$queryRaw`SELECT 1`
      } catch {
        throw new HttpProblem(503, 'database-unavailable', 'The database is unavailable.', {}, { 'retry-after': '1' })
      }
      return { status: 'ready', audit: fastify.audit.stats(), accounts: fastify.accountCache.stats() }
    },
  })
}

export default health
