// npm run bench:access [-- --requests 200 --members 1000]
// GET /api/projects/:id/access over HTTP on PostgreSQL, for a project shared with 1,000 members
// (half viewers, half editors), asked by its owner: the whole answer is computed each time
// (candidates from the members, one decision per distinct membership). Requests go one at a
// time, so the figures are latencies, not throughput. Seeds its own rows once (users named
// access_bench_*) into `projects_tasks_access_bench`, or DATABASE_URL. Target: p50 < 100 ms.
// Writes bench/results/<date>-access.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import type { PrismaClient } from '../src/generated/prisma/client.ts'
import { option, start, stop, token, type Server } from './harness.ts'
import { openBenchDatabase, vacuumAnalyze } from './seed.ts'

const REQUESTS = option('requests', 200)
const WARMUP = option('warmup', 20)
const MEMBERS = option('members', 1000)
const url = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/projects_tasks_access_bench'
const OWNER = 'access_bench_owner'

/** One owner, `members` members of one project (alternately viewer and editor), a few auditors and admins, some tasks. */
async function seed(db: PrismaClient, members: number): Promise<number> {
  const owner = await db.user.findUnique({ where: { username: OWNER }, select: { projects: { select: { id: true }, take: 1 } } })
  const existing = owner?.projects[0]
  if (existing && (await db.projectMember.count({ where: { projectId: existing.id } })) === members) return existing.id
  console.error(`seeding a project shared with ${members} members…`)
  await db.$transaction(
    async (tx) => {
      const sql = (text: string) => tx.$executeRawUnsafe(text)
      await sql(`DELETE FROM users WHERE username LIKE 'access\\_bench\\_%'`)
      await sql(`INSERT INTO users (username, password_hash, role) VALUES ('${OWNER}', 'not-a-login', 'member')`)
      await sql(`INSERT INTO users (username, password_hash, role)
        SELECT 'access_bench_member_' || g, 'not-a-login', 'member' FROM generate_series(1, ${members}) g ORDER BY g`)
      await sql(`INSERT INTO users (username, password_hash, role)
        SELECT 'access_bench_' || r || '_' || g, 'not-a-login', r FROM generate_series(1, 5) g, unnest(ARRAY['auditor', 'admin']) r`)
      await sql(`INSERT INTO projects (owner_id, name) SELECT id, 'Shared with many' FROM users WHERE username = '${OWNER}'`)
      await sql(`INSERT INTO project_members (project_id, user_id, role)
        SELECT p.id, u.id, CASE WHEN u.id % 2 = 0 THEN 'editor' ELSE 'viewer' END
        FROM projects p JOIN users o ON o.id = p.owner_id AND o.username = '${OWNER}', users u
        WHERE u.username LIKE 'access\\_bench\\_member\\_%'`)
      await sql(`INSERT INTO tasks (project_id, title)
        SELECT p.id, 'Task ' || t FROM projects p JOIN users o ON o.id = p.owner_id AND o.username = '${OWNER}', generate_series(1, 20) t`)
    },
    { timeout: 600_000, maxWait: 10_000 },
  )
  await vacuumAnalyze(db)
  await db.$executeRawUnsafe('VACUUM ANALYZE project_members')
  return seed(db, members)
}

const { db, driver } = await openBenchDatabase(url)
const projectId = await seed(db, MEMBERS)
const ownerId = (await db.user.findUniqueOrThrow({ where: { username: OWNER }, select: { id: true } })).id
const users = await db.user.count()
await db.$disconnect()
await driver.close()

const auth = `Bearer ${token(ownerId)}`
const path = `/api/projects/${projectId}/access`
/** A port nothing listens on now: another server on a fixed one would answer in ours' place. */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}
const server: Server = { name: 'policy', script: 'src/server.ts', port: await freePort() }

interface Answer {
  roles: Array<{ role: string; count: number; listed: number }>
  users: { total: number; items: unknown[] }
}

async function timed(): Promise<{ ms: number; answer: Answer }> {
  const started = performance.now()
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: { authorization: auth } })
  const body = await res.text()
  const ms = performance.now() - started
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${body.slice(0, 300)}`)
  return { ms, answer: JSON.parse(body) as Answer }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
let latencies: number[] = []
let first = 0
try {
  await start(server, url, `/api/projects/${projectId}`, auth)
  if (server.child?.exitCode !== null) throw new Error('the server exited at start')
  const cold = await timed()
  first = cold.ms
  // The owner and every member differ from the member role's (empty) grants: all listed.
  if (cold.answer.users.total !== MEMBERS + 1 || cold.answer.users.items.length !== 50) {
    throw new Error(`unexpected answer: ${JSON.stringify(cold.answer).slice(0, 500)}`)
  }
  for (let i = 0; i < WARMUP; i++) await timed()
  for (let i = 0; i < REQUESTS; i++) latencies.push((await timed()).ms)
} finally {
  await stop(server)
}

latencies = latencies.sort((a, b) => a - b)
const round = (ms: number) => Math.round(ms * 10) / 10
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
  members: MEMBERS,
  users,
  requests: REQUESTS,
  firstMs: round(first),
  p50Ms: round(percentile(latencies, 50)),
  p99Ms: round(percentile(latencies, 99)),
  maxMs: round(latencies.at(-1)!),
  meanMs: round(latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length),
}
const summary = [
  '# Who can access a project',
  '',
  `${result.date}, Node ${result.node}, PostgreSQL: \`GET ${path.replace(String(projectId), ':id')}\` as the owner of a project shared with ${MEMBERS} members (${users} users in the database), ${REQUESTS} requests one at a time after ${WARMUP} to warm up, client, server and PostgreSQL on the same ${result.cpus}-core machine (load average ${result.loadAverage.join(', ')} at the end).`,
  '',
  '| first request | p50 | p99 | max | mean |',
  '|---|---|---|---|---|',
  `| ${result.firstMs} ms | ${result.p50Ms} ms | ${result.p99Ms} ms | ${result.maxMs} ms | ${result.meanMs} ms |`,
  '',
  `Target p50 < 100 ms: ${result.p50Ms < 100 ? 'met' : 'missed'}.`,
  '',
].join('\n')
const dir = join(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
const stamp = result.date.replace(/[:T]/g, '-').slice(0, 19)
writeFileSync(join(dir, `${stamp}-access.json`), `${JSON.stringify(result, null, 2)}\n`)
writeFileSync(join(dir, `${stamp}-access.md`), summary)
console.log(summary)
