import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { PrismaClient } from '../generated/prisma/client.ts'
import type { DatabaseDriver } from '../db/adapters.ts'
import { migrateIfNeeded } from '../db/migrations.ts'
import { openDriver } from '../db/open.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Prisma, for the authorization layer and for unprotected data (accounts). */
    db: PrismaClient
    databaseKind: DatabaseDriver['kind']
  }
}

export interface DatabaseOptions {
  /** An already opened driver (tests); otherwise one is opened from the config. */
  driver?: DatabaseDriver
  /** Apply pending migrations at startup (default true). */
  migrate?: boolean
}

async function database(fastify: FastifyInstance, options: DatabaseOptions) {
  const driver = options.driver ?? (await openDriver(fastify.config))
  const db = new PrismaClient({ adapter: driver.factory })
  try {
    if (options.migrate !== false) {
      const applied = await migrateIfNeeded(db, driver.factory)
      if (applied.length) fastify.log.info({ applied }, 'database migrations applied')
    }
  } catch (error) {
    await db.$disconnect()
    if (!options.driver) await driver.close()
    throw error
  }
  fastify.decorate('db', db)
  fastify.decorate('databaseKind', driver.kind)
  fastify.addHook('onClose', async () => {
    await db.$disconnect()
    if (!options.driver) await driver.close()
  })
}

export default fp(database, { name: 'database', dependencies: ['config'] })
