import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { AppConfig } from '../config.ts'

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
  }
}

export default fp(
  async (fastify: FastifyInstance, options: { config: AppConfig }) => {
    fastify.decorate('config', options.config)
  },
  { name: 'config' },
)
