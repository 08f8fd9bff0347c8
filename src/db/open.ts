import type { AppConfig } from '../config.ts'
import { embeddedDataPath, pgliteDriver, postgresDriver, type DatabaseDriver } from './adapters.ts'

/** PostgreSQL when DATABASE_URL is set, else embedded PGlite persisted under DATA_DIR. */
export function openDriver(config: Pick<AppConfig, 'databaseUrl' | 'dataDir'>): Promise<DatabaseDriver> | DatabaseDriver {
  return config.databaseUrl ? postgresDriver(config.databaseUrl) : pgliteDriver({ dataDir: embeddedDataPath(config.dataDir) })
}
