import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'prisma/config'

// The CLI downloads a native schema engine on every start unless this points at an executable.
// We never use the native engine (migrations run through the WASM engine, see src/db/migrations.ts),
// so a stub that refuses to run keeps `prisma generate|validate|format` working offline.
const stub = fileURLToPath(new URL('./scripts/no-native-schema-engine.sh', import.meta.url))
if (existsSync(stub)) process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= stub

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
})
