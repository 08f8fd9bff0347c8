import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'prisma/config'

// `prisma generate|validate|format` need no schema engine, but the CLI downloads the native one
// on every start unless this points at an executable: a stub that refuses to run keeps them
// offline. The project's own migrations run on the WASM engine (npm run db:migrate|db:status).
// Prisma's commands that do need the native engine (migrate, db) are let
// through to download it, which needs the network.
const NEEDS_NATIVE_ENGINE = new Set(['migrate', 'db'])
const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'))
const stub = fileURLToPath(new URL('./scripts/no-native-schema-engine.sh', import.meta.url))
if (existsSync(stub) && !NEEDS_NATIVE_ENGINE.has(command ?? '')) process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= stub

// Prisma's CLI talks to PostgreSQL only: with DATABASE_URL unset the app uses the embedded
// PGlite database, which the CLI cannot reach (use npm run db:status for it).
const url = process.env.DATABASE_URL
if (!url && NEEDS_NATIVE_ENGINE.has(command ?? '')) {
  throw new Error(
    `prisma ${command ?? ''} needs DATABASE_URL (PostgreSQL); for the embedded database use npm run db:migrate or npm run db:status`,
  )
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  ...(url ? { datasource: { url } } : {}),
})
