import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { hashPassword } from '../auth/password.ts'

// ADMIN_USERNAME + ADMIN_PASSWORD create the first admin, once; an existing user is left as it is.
export default fp(
  async (fastify: FastifyInstance) => {
    const admin = fastify.config.bootstrapAdmin
    if (!admin) return
    const existing = await fastify.db.user.findUnique({ where: { username: admin.username }, select: { id: true } })
    if (existing) return
    try {
      await fastify.db.user.create({
        data: { username: admin.username, passwordHash: await hashPassword(admin.password), role: 'admin' },
      })
      fastify.log.info({ username: admin.username }, 'bootstrap admin created')
    } catch (error) {
      // Another instance starting at the same time created it first.
      if ((error as { code?: string }).code !== 'P2002') throw error
    }
  },
  { name: 'bootstrap-admin', dependencies: ['database'] },
)
