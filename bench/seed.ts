import pg from 'pg'
import { postgresDriver, type DatabaseDriver } from '../src/db/adapters.ts'
import { migrateIfNeeded } from '../src/db/migrations.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'

// The benchmark dataset, seeded once into its own PostgreSQL database: 1,000 members × 10
// projects × 20 tasks (10k projects / 200k tasks), a few auditors and admins, and then, after
// everybody else, the newest member with 50 projects × 20 tasks. Rows are inserted in key order,
// so the oldest member's rows sit at the start of every table and the newest member's at the
// end: a plan that walks a table in key order and filters by owner is cheap for the first and
// costs the whole table for the second. Deterministic: the same rows every time.

export const benchDatabaseUrl = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/projects_tasks_bench'

/** Created first: its rows come first in every table. */
export const OLDEST = 'bench_member_1'
/** Created last: its rows come last in every table. */
export const NEWEST = 'bench_newest'
export const NEWEST_PROJECTS = 50
export const TASKS_PER_PROJECT = 20
export const PROJECTS_PER_MEMBER = 10

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

export async function seed(db: PrismaClient, { members = 1000 } = {}): Promise<void> {
  if ((await db.user.count({ where: { username: NEWEST } })) === 1) return
  console.error(`seeding ${members} members × ${PROJECTS_PER_MEMBER} projects × ${TASKS_PER_PROJECT} tasks, then ${NEWEST}…`)
  // One transaction: an interrupted seed leaves nothing half-made behind. A database seeded by
  // an earlier layout (no newest member) is emptied first.
  await db.$transaction(
    async (tx) => {
      const sql = (text: string) => tx.$executeRawUnsafe(text)
      await sql('TRUNCATE users, projects, tasks, audit_events RESTART IDENTITY CASCADE')
      const projectsOf = (owners: string, perOwner: number) =>
        sql(`INSERT INTO projects (owner_id, name, description)
          SELECT u.id, 'Project ' || p, 'seeded project ' || p FROM users u, generate_series(1, ${perOwner}) p
          WHERE ${owners} ORDER BY u.id, p`)
      const tasksOf = (owners: string) =>
        sql(`INSERT INTO tasks (project_id, title, description, completed)
          SELECT pr.id, 'Task ' || t, 'seeded task ' || t, t % 3 = 0
          FROM projects pr JOIN users u ON u.id = pr.owner_id, generate_series(1, ${TASKS_PER_PROJECT}) t
          WHERE ${owners} ORDER BY pr.id, t`)
      await sql(`INSERT INTO users (username, password_hash, role)
        SELECT 'bench_member_' || g, 'not-a-login', 'member' FROM generate_series(1, ${members}) g ORDER BY g`)
      await sql(`INSERT INTO users (username, password_hash, role)
        SELECT 'bench_' || r || '_' || g, 'not-a-login', r FROM generate_series(1, 5) g, unnest(ARRAY['auditor', 'admin']) r`)
      await projectsOf(`u.username LIKE 'bench\\_member\\_%'`, PROJECTS_PER_MEMBER)
      await tasksOf(`u.username LIKE 'bench\\_member\\_%'`)
      await sql(`INSERT INTO users (username, password_hash, role) VALUES ('${NEWEST}', 'not-a-login', 'member')`)
      await projectsOf(`u.username = '${NEWEST}'`, NEWEST_PROJECTS)
      await tasksOf(`u.username = '${NEWEST}'`)
    },
    { timeout: 1_800_000, maxWait: 10_000 },
  )
  await vacuumAnalyze(db)
}

/**
 * Statistics and visibility maps as a long-running database has them: fresh planner estimates,
 * and index-only scans that need not visit the heap. Timed runs start from here.
 */
export async function vacuumAnalyze(db: PrismaClient): Promise<void> {
  await db.$executeRawUnsafe('VACUUM ANALYZE users, projects, tasks')
}
