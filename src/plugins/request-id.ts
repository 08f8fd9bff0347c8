import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

// Every answer names its request id, the one in every log line, audit record and problem body,
// so a client can quote it.

/** What an incoming `x-request-id` may be: it lands in logs and in a 100-character audit column. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/

/** Fastify's `genReqId`: the caller's `x-request-id` when it is safe to keep, else a new UUID. */
export function requestIdFor(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers['x-request-id']
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID()
}

export default fp(
  async (fastify: FastifyInstance) => {
    fastify.addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id)
    })
  },
  { name: 'request-id' },
)
