import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { findAccount, normalizeUsername } from '../auth/accounts.ts'
import { hashPassword, verifyPassword } from '../auth/password.ts'

// ADMIN_USERNAME + ADMIN_PASSWORD create the first admin. If that account exists without the
// admin role (demoted, or the last admin locked out), the right password gives it back: the way
// back in for whoever holds the server's configuration. A wrong one changes nothing.
export default fp(
  async (fastify: FastifyInstance) => {
    const admin = fastify.config.bootstrapAdmin
    if (!admin) return
    const existing = await findAccount(fastify.db, admin.username)
    if (existing) {
      if (!(await verifyPassword(admin.password, existing.passwordHash))) {
        fastify.log.warn({ username: existing.username }, 'ADMIN_PASSWORD does not match this existing account: left unchanged')
        return
      }
      if (existing.role === 'admin') return
      await fastify.db.user.update({ where: { id: existing.id }, data: { role: 'admin' } })
      fastify.log.info({ username: existing.username, previousRole: existing.role }, 'bootstrap admin: admin role restored')
      return
    }
    try {
      const username = normalizeUsername(admin.username)
      await fastify.db.user.create({
        data: { username, passwordHash: await hashPassword(admin.password, fastify.config.passwordCost), role: 'admin' },
      })
      fastify.log.info({ username }, 'bootstrap admin created')
    } catch (error) {
      // Another instance starting at the same time created it first.
      if ((error as { code?: string }).code !== 'P2002') throw error
    }
  },
  { name: 'bootstrap-admin', dependencies: ['config', 'database'] },
)
