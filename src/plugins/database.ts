import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { DatabaseDriver } from '../db/adapters.ts'
import type { Notifications } from '../db/notifications.ts'
import { attachPrisma, openDatabase, type OpenDatabase } from '../db/open.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Prisma, for the authorization layer and for unprotected data (accounts). */
    db: PrismaClient
    databaseKind: DatabaseDriver['kind']
    /** LISTEN/NOTIFY, one listening connection for the whole server. */
    notifications: Notifications
  }
}

export interface DatabaseOptions {
  /**
   * Opened and migrated before the plugins load (the server: a first start can take longer than
   * Fastify's plugin timeout); closed with the app.
   */
  opened?: OpenDatabase
  /** An open driver the caller keeps and closes (tests). */
  driver?: DatabaseDriver
  /** Apply pending migrations on `driver` (default true). */
  migrate?: boolean
}

async function database(fastify: FastifyInstance, options: DatabaseOptions) {
  const { driver, db } =
    options.opened ??
    (options.driver
      ? { driver: options.driver, db: await attachPrisma(options.driver, fastify.log, { migrate: options.migrate !== false }) }
      : await openDatabase(fastify.config, fastify.log))
  fastify.decorate('db', db)
  fastify.decorate('databaseKind', driver.kind)
  const notifications = driver.notifications(fastify.log)
  fastify.decorate('notifications', notifications)
  fastify.addHook('onClose', async () => {
    await notifications.close()
    await db.$disconnect()
    if (!options.driver) await driver.close()
  })
}

export default fp(database, { name: 'database', dependencies: ['config'] })
