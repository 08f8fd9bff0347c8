import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { pgliteDriver, postgresDriver, type DatabaseDriver } from '../../src/db/adapters.ts'
import { applyMigrations, projectRoot, readMigrations } from '../../src/db/migrations.ts'

// Every test file gets its own database, started from a migrated template so files run in
// parallel and start fast: a PostgreSQL `CREATE DATABASE … TEMPLATE`, or a PGlite data-dir dump.

export type Engine = 'pglite' | 'postgres'

export const postgresUrl = process.env.TEST_DATABASE_URL || undefined

/** PGlite always; PostgreSQL too when TEST_DATABASE_URL is set (CI sets it). */
export const engines: Engine[] = postgresUrl ? ['pglite', 'postgres'] : ['pglite']

const migrationsHash = createHash('sha256').update(JSON.stringify(readMigrations().migrationDirectories)).digest('hex').slice(0, 12)

const cacheDir = join(projectRoot, '.data', 'test')

/** Runs `create` once across all concurrent test processes (a directory is the lock). */
async function once(lockName: string, done: () => boolean | Promise<boolean>, create: () => Promise<void>): Promise<void> {
  mkdirSync(cacheDir, { recursive: true })
  const lock = join(cacheDir, `${lockName}.lock`)
  for (;;) {
    if (await done()) return
    try {
      mkdirSync(lock)
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100))
      continue
    }
    try {
      if (!(await done())) await create()
      return
    } finally {
      rmSync(lock, { recursive: true, force: true })
    }
  }
}

async function pgliteTemplate(): Promise<Blob> {
  const file = join(cacheDir, `pglite-template-${migrationsHash}.tar.gz`)
  await once(
    `pglite-${migrationsHash}`,
    () => existsSync(file),
    async () => {
      const driver = await pgliteDriver()
      try {
        await applyMigrations(driver.factory)
        const dump = await driver.dump!()
        writeFileSync(`${file}.tmp`, Buffer.from(await dump.arrayBuffer()))
        renameSync(`${file}.tmp`, file)
      } finally {
        await driver.close()
      }
    },
  )
  return new Blob([readFileSync(file)])
}

function adminUrl(database: string): string {
  const url = new URL(postgresUrl!)
  url.pathname = `/${database}`
  return url.toString()
}

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

async function postgresTemplate(): Promise<string> {
  const name = `tpl_${migrationsHash}`
  const exists = () => withAdmin(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1)
  await once(`postgres-${migrationsHash}`, exists, async () => {
    const building = `${name}_building`
    await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`))
    await withAdmin((c) => c.query(`CREATE DATABASE ${building}`))
    const driver = postgresDriver(adminUrl(building), 2)
    await applyMigrations(driver.factory)
    await driver.close()
    await withAdmin(async (c) => {
      // A template must have no open connections; the migration pool may still hold some.
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [building])
      await c.query(`ALTER DATABASE ${building} RENAME TO ${name}`)
    })
  })
  return name
}

export interface TestDatabase {
  engine: Engine
  driver: DatabaseDriver
  /** For PostgreSQL, the URL of this test's own database (to start a second server on it). */
  url?: string
  drop(): Promise<void>
}

export async function createTestDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === 'pglite') {
    const driver = await pgliteDriver({ loadDataDir: await pgliteTemplate() })
    return { engine, driver, drop: () => driver.close() }
  }
  const template = await postgresTemplate()
  const name = `test_${process.pid}_${randomBytes(4).toString('hex')}`
  await withAdmin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`))
  const url = adminUrl(name)
  const driver = postgresDriver(url, 5)
  return {
    engine,
    driver,
    url,
    drop: async () => {
      await driver.close()
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
    },
  }
}
