import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { AppConfig } from '../config.ts'
import { PrismaClient } from '../generated/prisma/client.ts'
import { embeddedDataPath, pgliteDriver, postgresDriver, type DatabaseDriver } from './adapters.ts'
import { migrateIfNeeded } from './migrations.ts'

/** Where startup says what it is doing: the server's logger, or a CLI's stderr. */
export interface StartupLog {
  info(details: object, message: string): void
}

export interface OpenDatabase {
  driver: DatabaseDriver
  db: PrismaClient
}

/** PostgreSQL when DATABASE_URL is set, else embedded PGlite persisted under DATA_DIR. */
export function openDriver(config: Pick<AppConfig, 'databaseUrl' | 'dataDir'>): Promise<DatabaseDriver> | DatabaseDriver {
  return config.databaseUrl ? postgresDriver(config.databaseUrl) : pgliteDriver({ dataDir: embeddedDataPath(config.dataDir) })
}

/** Prisma on an open driver, with the pending migrations applied unless `migrate` is false. */
export async function attachPrisma(driver: DatabaseDriver, log: StartupLog, { migrate = true } = {}): Promise<PrismaClient> {
  const db = new PrismaClient({ adapter: driver.factory })
  if (!migrate) return db
  try {
    const applied = await migrateIfNeeded(db, driver.factory, (pending) =>
      log.info({ pending }, `applying ${pending.length} database migration(s)…`),
    )
    if (applied.length) log.info({ applied }, 'database migrations applied')
  } catch (error) {
    await db.$disconnect()
    throw error
  }
  return db
}

/**
 * The database the configuration names, opened and migrated. A new embedded database runs
 * initdb first, which takes seconds (tens of seconds on a loaded machine): the log says so
 * before it starts, so a slow first start is never mistaken for a hang.
 */
export async function openDatabase(config: Pick<AppConfig, 'databaseUrl' | 'dataDir'>, log: StartupLog): Promise<OpenDatabase> {
  if (!config.databaseUrl) {
    const path = embeddedDataPath(config.dataDir)
    if (!existsSync(join(path, 'PG_VERSION'))) log.info({ path }, 'creating the embedded database…')
  }
  const driver = await openDriver(config)
  try {
    return { driver, db: await attachPrisma(driver, log) }
  } catch (error) {
    await driver.close()
    throw error
  }
}
