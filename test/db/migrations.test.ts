import { readFileSync } from 'node:fs'
import t from 'tap'
import { migrationDrift, migrationStatus, schemaPath } from '../../src/db/migrations.ts'
import { createTestDatabase, engines } from '../helpers/databases.ts'

t.test('prisma/migrations produce exactly prisma/schema.prisma (no drift)', async (t) => {
  t.equal(await migrationDrift(), '')
})

t.test('the drift check notices a schema change that has no migration', async (t) => {
  const changed = readFileSync(schemaPath, 'utf8').replace(
    'completed   Boolean  @default(false)',
    'completed   Boolean  @default(false)\n  priority    Int      @default(0)',
  )
  t.match(await migrationDrift(changed), /priority/)
})

for (const engine of engines) {
  t.test(`a migrated ${engine} database reports no pending or failed migration`, async (t) => {
    const database = await createTestDatabase(engine)
    t.teardown(() => database.drop())
    t.same(await migrationStatus(database.driver.factory), [])
  })
}
