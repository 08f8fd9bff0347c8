import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import type { MigrationList } from '@prisma/schema-engine-wasm'
import { pgliteDriver } from './adapters.ts'

// Prisma's migration engine, as WebAssembly driven through a driver adapter: the native engine
// cannot be downloaded on every machine, and this one needs no network and no binary.
// It writes Prisma's own `_prisma_migrations` table, so `prisma migrate deploy` stays compatible.

export const projectRoot = resolve(import.meta.dirname, '../..')
export const schemaPath = join(projectRoot, 'prisma/schema.prisma')
export const migrationsDir = join(projectRoot, 'prisma/migrations')
const filters = { externalTables: [], externalEnums: [] }

type EngineModule = typeof import('@prisma/schema-engine-wasm/schema_engine_bg')
type SchemaEngineType = Awaited<ReturnType<EngineModule['SchemaEngine']['new']>>
let engineModule: Promise<EngineModule> | undefined

function loadEngineModule(): Promise<EngineModule> {
  engineModule ??= (async () => {
    const bindings = await import('@prisma/schema-engine-wasm/schema_engine_bg')
    const wasmPath = join(projectRoot, 'node_modules/@prisma/schema-engine-wasm/schema_engine_bg.wasm')
    // The engine arms a ~10 s timer; unref it so a finished CLI or test exits at once.
    const imports = {
      ...bindings,
      __wbg_setTimeout_5d6a1d4fc51ea450: (fn: () => void, ms: number) => {
        const timer = setTimeout(fn, ms >>> 0)
        timer.unref()
        return timer
      },
    }
    // The WebAssembly global is not in the ES lib types this project compiles against.
    const wasm = (
      globalThis as unknown as {
        WebAssembly: { instantiate(bytes: Buffer, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }> }
      }
    ).WebAssembly
    const { instance } = await wasm.instantiate(readFileSync(wasmPath), { './schema_engine_bg.js': imports })
    bindings.__wbg_set_wasm(instance.exports)
    ;(instance.exports.__wbindgen_start as () => void)()
    return bindings
  })()
  return engineModule
}

async function withEngine<T>(factory: SqlMigrationAwareDriverAdapterFactory, run: (engine: SchemaEngineType) => Promise<T>): Promise<T> {
  const { SchemaEngine } = await loadEngineModule()
  const schema = readFileSync(schemaPath, 'utf8')
  const log = (message: string) => {
    if (process.env.MIGRATIONS_DEBUG) process.stderr.write(`${message}\n`)
  }
  const engine = await SchemaEngine.new({ datamodels: [[schemaPath, schema]] }, log, bindMigrationAwareSqlAdapterFactory(factory))
  try {
    return await run(engine)
  } finally {
    engine.free()
  }
}

export function readMigrations(dir = migrationsDir): MigrationList {
  const names = existsSync(dir)
    ? readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort()
    : []
  const lockPath = join(dir, 'migration_lock.toml')
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => {
      const file = join(dir, name, 'migration.sql')
      return {
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: existsSync(file) ? { tag: 'ok', value: readFileSync(file, 'utf8') } : { tag: 'error', value: 'missing migration.sql' },
        },
      }
    }),
  }
}

/**
 * Names of the migrations in prisma/migrations that the database has not finished applying,
 * read from Prisma's own table: a cheap check that spares loading the engine on every start.
 */
async function unappliedMigrations(query: (sql: string) => Promise<Array<{ migration_name: string }>>): Promise<string[]> {
  const names = readMigrations().migrationDirectories.map((dir) => dir.path)
  let applied: Set<string>
  try {
    const rows = await query('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL')
    applied = new Set(rows.map((row) => row.migration_name))
  } catch {
    return names // no migrations table yet
  }
  return names.filter((name) => !applied.has(name))
}

/** Applies pending migrations, loading the engine only when Prisma's table says some are pending. */
export async function migrateIfNeeded(
  db: { $queryRawUnsafe<T>(sql: string): Promise<T> },
  factory: SqlMigrationAwareDriverAdapterFactory,
): Promise<string[]> {
  const pending = await unappliedMigrations((sql) => db.$queryRawUnsafe(sql))
  return pending.length ? applyMigrations(factory) : []
}

/** Applies every migration not yet applied; returns the names it applied. */
export async function applyMigrations(factory: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
  return withEngine(factory, async (engine) => {
    const result = await engine.applyMigrations({ migrationsList: readMigrations(), filters })
    return result.appliedMigrationNames
  })
}

/** Migration history problems of a database, empty when it is up to date. */
export async function migrationStatus(factory: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
  return withEngine(factory, async (engine) => {
    const result = await engine.diagnoseMigrationHistory({
      migrationsList: readMigrations(),
      optInToShadowDatabase: false,
      filters,
    })
    const problems: string[] = []
    if (result.history) problems.push(JSON.stringify(result.history))
    if (result.failedMigrationNames.length) problems.push(`failed: ${result.failedMigrationNames.join(', ')}`)
    if (result.editedMigrationNames.length) problems.push(`edited: ${result.editedMigrationNames.join(', ')}`)
    return problems
  })
}

/**
 * SQL that would turn the schema built by the migrations into `prisma/schema.prisma`;
 * empty when they agree. Runs in a throwaway in-memory database.
 */
export async function migrationDrift(schema = readFileSync(schemaPath, 'utf8')): Promise<string> {
  const scratch = await pgliteDriver()
  try {
    return await withEngine(scratch.factory, async (engine) => {
      const result = await engine.diff({
        from: { tag: 'migrations', ...readMigrations() },
        to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: schema }] },
        script: true,
        exitCode: true,
        filters,
      })
      return result.exitCode === 0 ? '' : (result.stdout ?? 'drift')
    })
  } finally {
    await scratch.close()
  }
}

/**
 * Writes `prisma/migrations/<timestamp>_<name>/migration.sql` with the SQL that brings the
 * migrations up to `prisma/schema.prisma` (what `prisma migrate diff --from-migrations
 * --to-schema-datamodel --script` prints). Returns the directory name, or undefined if nothing changed.
 */
export async function createMigration(name: string): Promise<string | undefined> {
  const script = await migrationDrift()
  if (!script) return undefined
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)
  const dirName = `${stamp}_${name}`
  mkdirSync(join(migrationsDir, dirName), { recursive: true })
  writeFileSync(join(migrationsDir, dirName, 'migration.sql'), script)
  writeFileSync(
    join(migrationsDir, 'migration_lock.toml'),
    '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
  )
  return dirName
}
