// Database maintenance without Prisma's native engine:
//   db.ts migrate            apply pending migrations (DATABASE_URL, else the embedded database)
//   db.ts status             list migration history problems; exit 1 if any
//   db.ts drift              exit 1 if prisma/migrations does not produce prisma/schema.prisma
//   db.ts new <name>         write a migration for the schema changes not yet migrated
import { loadConfig, loadDotEnv } from '../src/config.ts'
import { openDriver } from '../src/db/open.ts'
import { applyMigrations, createMigration, migrationDrift, migrationStatus } from '../src/db/migrations.ts'

const [command, name] = process.argv.slice(2)
loadDotEnv()

async function main(): Promise<number> {
  switch (command) {
    case 'migrate':
    case 'status': {
      const driver = await openDriver(loadConfig())
      try {
        if (command === 'migrate') {
          const applied = await applyMigrations(driver.factory)
          console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date')
          return 0
        }
        const problems = await migrationStatus(driver.factory)
        console.log(problems.length ? problems.join('\n') : 'database is up to date')
        return problems.length ? 1 : 0
      } finally {
        await driver.close()
      }
    }
    case 'drift': {
      const drift = await migrationDrift()
      console.log(drift ? `prisma/migrations differ from prisma/schema.prisma:\n${drift}` : 'no drift')
      return drift ? 1 : 0
    }
    case 'new': {
      if (!name || !/^[a-z0-9_]+$/.test(name)) {
        console.error('usage: npm run db:migration -- <name in snake_case>')
        return 2
      }
      const created = await createMigration(name)
      console.log(created ? `created prisma/migrations/${created}` : 'no schema changes')
      return 0
    }
    default:
      console.error('usage: db.ts migrate|status|drift|new <name>')
      return 2
  }
}

process.exitCode = await main()
