import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { ProblemSchema } from '../routes/schemas.ts'
import { documentedSchema, finishDocument } from './docs-transform.ts'

// OpenAPI 3 generated from the routes' TypeBox schemas: /docs/json and a Swagger UI at /docs.
export default fp(
  async (fastify: FastifyInstance) => {
    await fastify.register(swagger, {
      openapi: {
        info: {
          title: 'Projects & Tasks API',
          version: '0.1.0',
          description:
            'Every access decision comes from the CASL policy in policies/. Errors are RFC 9457 problem details (application/problem+json) whose `type` is a reference relative to the request URL, such as `/problems/forbidden`: GET it for an explanation. Every answer carries `x-request-id`.',
        },
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        security: [{ bearer: [] }],
      },
      transform: ({ schema, url, route }) => ({ schema: documentedSchema(schema, route, ProblemSchema), url }),
      transformObject: (document) => finishDocument('openapiObject' in document ? document.openapiObject : {}),
    })
    await fastify.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'docs' },
)
