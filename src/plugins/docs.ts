import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

// OpenAPI 3 generated from the routes' TypeBox schemas: /docs/json and a Swagger UI at /docs.
export default fp(
  async (fastify: FastifyInstance) => {
    await fastify.register(swagger, {
      openapi: {
        info: {
          title: 'Projects & Tasks API',
          version: '0.1.0',
          description: 'Every access decision comes from the CASL policy in policies/. Errors are RFC 9457 problem details.',
        },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        security: [{ bearer: [] }],
      },
    })
    await fastify.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'docs' },
)
