import pg from 'pg'
import { postgresDriver, type DatabaseDriver } from '../src/db/adapters.ts'
import { migrateIfNeeded } from '../src/db/migrations.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'

// The benchmark dataset, seeded once into its own PostgreSQL database: 1,000 members × 10
// projects × 20 tasks (10k projects / 200k tasks), one heavy member with 50 projects × 20 tasks,
// and a few auditors and admins. Deterministic: the same rows every time.

export const benchDatabaseUrl = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/projects_tasks_bench'

async function ensureDatabase(url: string): Promise<void> {
  const admin = new URL(url)
  const name = admin.pathname.slice(1)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    if (!(await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount) {
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '')}"`)
    }
  } finally {
    await client.end()
  }
}

export async function openBenchDatabase(url = benchDatabaseUrl): Promise<{ db: PrismaClient; driver: DatabaseDriver }> {
  await ensureDatabase(url)
  const driver = postgresDriver(url, 10)
  const db = new PrismaClient({ adapter: driver.factory })
  await migrateIfNeeded(db, driver.factory)
  return { db, driver }
}

export async function seed(db: PrismaClient, { members = 1000, projectsPerMember = 10, tasksPerProject = 20 } = {}): Promise<void> {
  if ((await db.user.count({ where: { username: 'bench_heavy' } })) === 1) return
  console.error(`seeding ${members} members × ${projectsPerMember} projects × ${tasksPerProject} tasks…`)
  // One transaction: an interrupted seed leaves nothing half-made behind.
  await db.$transaction(
    async (tx) => {
      const sql = (text: string) => tx.$executeRawUnsafe(text)
      await sql(`INSERT INTO users (username, password_hash, role)
        SELECT 'bench_member_' || g, 'not-a-login', 'member' FROM generate_series(1, ${members}) g`)
      await sql(`INSERT INTO users (username, password_hash, role)
        SELECT 'bench_' || r || '_' || g, 'not-a-login', r FROM generate_series(1, 5) g, unnest(ARRAY['auditor', 'admin']) r`)
      await sql(`INSERT INTO projects (owner_id, name, description)
        SELECT u.id, 'Project ' || p, 'seeded project ' || p FROM users u, generate_series(1, ${projectsPerMember}) p WHERE u.username LIKE 'bench_member_%'`)
      await sql(`INSERT INTO users (username, password_hash, role) VALUES ('bench_heavy', 'not-a-login', 'member')`)
      await sql(`INSERT INTO projects (owner_id, name, description)
        SELECT u.id, 'Heavy project ' || p, 'seeded' FROM users u, generate_series(1, 50) p WHERE u.username = 'bench_heavy'`)
      await sql(`INSERT INTO tasks (project_id, title, description, completed)
        SELECT pr.id, 'Task ' || t, 'seeded task ' || t, t % 3 = 0 FROM projects pr, generate_series(1, ${tasksPerProject}) t`)
    },
    { timeout: 600_000, maxWait: 10_000 },
  )
  await db.$executeRawUnsafe('ANALYZE')
}
