import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'
import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'

// Security headers on every answer; CORS only for the origins configured (none by default).
export default fp(
  async (fastify: FastifyInstance) => {
    await fastify.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          // Swagger UI sets inline styles; nothing else here serves HTML.
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          frameAncestors: ["'none'"],
        },
      },
    })
    const origins = fastify.config.corsOrigins
    if (origins.length) {
      await fastify.register(cors, {
        origin: origins,
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowedHeaders: ['authorization', 'content-type', 'if-match'],
        exposedHeaders: ['etag', 'x-request-id'],
      })
    }
  },
  { name: 'security', dependencies: ['config'] },
)
