import { join } from 'node:path'
import pg from 'pg'
import { postgresDriver, type DatabaseDriver } from '../src/db/adapters.ts'
import { migrateIfNeeded } from '../src/db/migrations.ts'
import { PrismaClient } from '../src/generated/prisma/client.ts'
import { readPoliciesDir } from '../src/policy/files.ts'
import { canonical } from '../src/shared/rule-diff.ts'

// The benchmark dataset, seeded once into its own PostgreSQL database: 1,000 members × 10
// projects × 20 tasks (10k projects / 200k tasks), a few auditors and admins, and then, after
// everybody else, the newest member with 50 projects × 20 tasks. Rows are inserted in key order,
// so the oldest member's rows sit at the start of every table and the newest member's at the
// end: a plan that walks a table in key order and filters by owner is cheap for the first and
// costs the whole table for the second. Deterministic: the same rows every time.
//
// Sharing (project_members), in key order too: the oldest member is a member of 50 projects of
// others spread over the whole table, viewer and editor in turn, and so is the newest (their
// memberships first and last); every other member is a member of a few projects of the members
// after them; the first projects of the oldest and the newest are shared with a few others.

export const benchDatabaseUrl = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/projects_tasks_bench'

/** Created first: its rows come first in every table. */
export const OLDEST = 'bench_member_1'
/** Created last: its rows come last in every table. */
export const NEWEST = 'bench_newest'
export const NEWEST_PROJECTS = 50
export const TASKS_PER_PROJECT = 20
export const PROJECTS_PER_MEMBER = 10
/** Projects of others the oldest and the newest member are members of. */
export const SHARED_PROJECTS = 50
/** Memberships of every other member. */
export const OTHERS_MEMBERSHIPS = 3

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
  await seedRows(db, members)
  await usePoliciesDir(db)
}

/**
 * The benchmark measures the policy in policies/: on a database whose active version is another
 * (seeded by an earlier checkout), the versions are dropped, and the next server to start
 * imports policies/ as version 1.
 */
async function usePoliciesDir(db: PrismaClient): Promise<void> {
  const files = readPoliciesDir(join(import.meta.dirname, '..', 'policies'))
  const active = await db.policyVersion.findFirst({ orderBy: { version: 'desc' }, select: { rules: true } })
  if (active && canonical(active.rules) !== canonical(files.rules)) {
    console.error('the active policy version differs from policies/: starting over from policies/')
    await db.policyVersion.deleteMany()
  }
}

async function seedRows(db: PrismaClient, members: number): Promise<void> {
  if ((await db.user.count({ where: { username: NEWEST } })) === 1) {
    // Seeded before sharing existed: the memberships alone are added.
    if ((await db.projectMember.count({ where: { user: { username: NEWEST } } })) === SHARED_PROJECTS) return
    await db.$transaction((tx) => seedMemberships(tx, members), { timeout: 600_000, maxWait: 10_000 })
    await vacuumAnalyze(db)
    return
  }
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
      await seedMemberships(tx, members)
    },
    { timeout: 1_800_000, maxWait: 10_000 },
  )
  await vacuumAnalyze(db)
}

type Tx = Pick<PrismaClient, '$executeRawUnsafe'>

/** The memberships described at the top, replacing any there are. */
async function seedMemberships(tx: Tx, members: number): Promise<void> {
  const sql = (text: string) => tx.$executeRawUnsafe(text)
  await sql('TRUNCATE project_members RESTART IDENTITY')
  // Projects of the other members, numbered in key order.
  const others = (username: string) => `SELECT p.id, row_number() OVER (ORDER BY p.id) AS n
    FROM projects p JOIN users u ON u.id = p.owner_id WHERE u.username LIKE 'bench\\_member\\_%' AND u.username <> '${username}'`
  const every = Math.floor(((members - 1) * PROJECTS_PER_MEMBER) / SHARED_PROJECTS)
  // SHARED_PROJECTS of them spread evenly over the table, viewer and editor in turn.
  const memberOf = (username: string, shift: number) =>
    sql(`INSERT INTO project_members (project_id, user_id, role)
      SELECT o.id, me.id, CASE WHEN o.n / ${every} % 2 = 0 THEN 'viewer' ELSE 'editor' END
      FROM (${others(username)}) o, users me
      WHERE me.username = '${username}' AND o.n % ${every} = ${shift} AND o.n / ${every} < ${SHARED_PROJECTS} ORDER BY o.id`)
  // The owner's first 5 projects, each shared with three other members.
  const shareOwn = (username: string) =>
    sql(`INSERT INTO project_members (project_id, user_id, role)
      SELECT p.id, u.id, 'viewer' FROM (SELECT pr.id FROM projects pr JOIN users o ON o.id = pr.owner_id
        WHERE o.username = '${username}' ORDER BY pr.id LIMIT 5) p,
        (SELECT id FROM users WHERE username IN ('bench_member_2', 'bench_member_3', 'bench_member_4')) u
      ORDER BY p.id, u.id`)
  await memberOf(OLDEST, 7)
  await shareOwn(OLDEST)
  // Member g is a member of one project of each of members g+1 … g+OTHERS_MEMBERSHIPS (wrapping).
  await sql(`INSERT INTO project_members (project_id, user_id, role)
    SELECT p.id, u.id, CASE WHEN k % 2 = 0 THEN 'editor' ELSE 'viewer' END
    FROM users u, generate_series(1, ${OTHERS_MEMBERSHIPS}) k,
      LATERAL (SELECT pr.id FROM projects pr JOIN users o ON o.id = pr.owner_id
               WHERE o.username = 'bench_member_' || ((substr(u.username, 14)::int + k - 1) % ${members} + 1)
               ORDER BY pr.id LIMIT 1 OFFSET k % ${PROJECTS_PER_MEMBER}) p
    WHERE u.username LIKE 'bench\\_member\\_%' AND u.username <> '${OLDEST}'
    ORDER BY u.id, k
    ON CONFLICT DO NOTHING`)
  await memberOf(NEWEST, 3)
  await shareOwn(NEWEST)
}

/**
 * Statistics and visibility maps as a long-running database has them: fresh planner estimates,
 * and index-only scans that need not visit the heap. Timed runs start from here.
 */
export async function vacuumAnalyze(db: PrismaClient): Promise<void> {
  await db.$executeRawUnsafe('VACUUM ANALYZE users, projects, tasks, project_members')
}
