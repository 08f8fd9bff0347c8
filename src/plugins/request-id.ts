import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

// Every answer names its request id, the one in every log line and in problem bodies, so a client
// can quote it. Which incoming ids are kept is the server's genReqId's decision.
export default fp(
  async (fastify: FastifyInstance) => {
    fastify.addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id)
    })
  },
  { name: 'request-id' },
)
