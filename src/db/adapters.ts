import { createHash } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PGliteNotifications, PostgresNotifications, type NotificationLog, type Notifications } from './notifications.ts'

/** A driver adapter factory plus whatever must be closed to let the process exit. */
export interface DatabaseDriver {
  kind: 'postgres' | 'pglite'
  factory: SqlMigrationAwareDriverAdapterFactory
  close(): Promise<void>
  /** PGlite only: the whole database as a tarball, to start other databases from. */
  dump?(): Promise<Blob>
  /** LISTEN/NOTIFY on this database, for one server; its owner closes it. */
  notifications(log?: NotificationLog): Notifications
}

export function postgresDriver(connectionString: string, poolSize = 10): DatabaseDriver {
  const inner = new PrismaPg(
    // allowExitOnIdle: an idle pool must not keep a CLI or test process alive.
    { connectionString, max: poolSize, allowExitOnIdle: true, connectionTimeoutMillis: 5000 },
    {
      // Reuse server-side prepared statements: the same few queries run on every request.
      statementNameGenerator: (query) => `s${hash(query.sql)}`,
    },
  )
  return {
    kind: 'postgres',
    factory: new WholeScriptPgFactory(inner),
    close: async () => {},
    notifications: (log) => new PostgresNotifications(connectionString, log),
  }
}

function hash(text: string): string {
  return createHash('sha1').update(text).digest('base64url')
}

/**
 * @prisma/adapter-pg 7.10 runs a migration script statement by statement, split at every `;`,
 * which cuts a function body (`$$ … ; … $$`) apart. This sends the script as one simple query, as
 * Prisma's native engine does: PostgreSQL runs it in one transaction, all or nothing.
 */
class WholeScriptPgFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const
  readonly adapterName: string

  constructor(private readonly inner: PrismaPg) {
    this.adapterName = inner.adapterName
  }

  async connect(): Promise<SqlDriverAdapter> {
    return withWholeScripts(await this.inner.connect())
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    return withWholeScripts(await this.inner.connectToShadowDb())
  }
}

function withWholeScripts(adapter: Awaited<ReturnType<PrismaPg['connect']>>): SqlDriverAdapter {
  // Errors reported as the adapter reports its own (protected in its types).
  const reporting = adapter as unknown as { onError(error: unknown): never }
  adapter.executeScript = async (script: string) => {
    try {
      await adapter.underlyingDriver().query(script)
    } catch (error) {
      reporting.onError(error)
    }
  }
  return adapter
}

/** Embedded PostgreSQL. `dataDir` undefined means in memory; `loadDataDir` starts from a dump. */
export async function pgliteDriver(options: { dataDir?: string; loadDataDir?: Blob } = {}): Promise<DatabaseDriver> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true })
  const pglite = await PGlite.create({
    dataDir: options.dataDir,
    loadDataDir: options.loadDataDir,
  })
  return {
    kind: 'pglite',
    factory: new FixedPGliteFactory(pglite),
    // Prisma's $disconnect leaves PGlite open, and an open PGlite keeps Node alive.
    close: () => pglite.close(),
    dump: async () => await pglite.dumpDataDir('gzip'),
    notifications: () => new PGliteNotifications(pglite),
  }
}

export function embeddedDataPath(dataDir: string): string {
  return join(dataDir, 'pglite')
}

/**
 * pglite-prisma-adapter 0.7.2 does not await `executeScript` (a failing migration would be
 * recorded as applied) and never closes the shadow database it creates. This wraps both.
 */
class FixedPGliteFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const
  readonly adapterName: string
  private readonly inner: PrismaPGlite

  constructor(private readonly pglite: PGlite) {
    this.inner = new PrismaPGlite(pglite)
    this.adapterName = this.inner.adapterName
  }

  async connect(): Promise<SqlDriverAdapter> {
    return withAwaitedScripts(await this.inner.connect(), this.pglite, async () => {})
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const shadow = await PGlite.create()
    const adapter = await new PrismaPGlite(shadow).connect()
    return withAwaitedScripts(adapter, shadow, () => shadow.close())
  }
}

function withAwaitedScripts(adapter: SqlDriverAdapter, pglite: PGlite, onDispose: () => Promise<void>): SqlDriverAdapter {
  adapter.executeScript = async (script: string) => {
    await pglite.exec(script)
  }
  const dispose = adapter.dispose.bind(adapter)
  adapter.dispose = async () => {
    await dispose()
    await onDispose()
  }
  return adapter
}
