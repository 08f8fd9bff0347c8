// npm run bench [-- --duration 5 --rounds 2]
// The API over HTTP on PostgreSQL, side by side with two baselines started the same way:
//   policy       the real server (policies/ → accessibleBy / ForbiddenError)
//   handwritten  the same plugins and shapes, ownership typed into each handler (bench/baselines)
//   raw-sql      Fastify + pg + hand-written SQL, the machine's ceiling for the work
// Servers run interleaved per scenario so machine drift hits all three alike. Responses are
// checked for correctness before anything is timed. Writes bench/results/<date>-http.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { explainRequests } from './explain.ts'
import { peakRssMb, SECRET, start, stop, token, type Server } from './harness.ts'
import { benchDatabaseUrl, openBenchDatabase, seed } from './seed.ts'

const args = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
if (args.includes('--scale')) {
  await import('./scale.ts')
  process.exit(0)
}
const DURATION = option('duration', 5)
const ROUNDS = option('rounds', 2)
const CONNECTIONS = option('connections', 20)

const servers: Server[] = [
  { name: 'policy', script: 'src/server.ts', port: 3301 },
  { name: 'handwritten', script: 'bench/baselines/handwritten.ts', port: 3302 },
  { name: 'raw-sql', script: 'bench/baselines/raw-sql.ts', port: 3303 },
]

const { db, driver } = await openBenchDatabase()
await seed(db)
const user = async (username: string) => (await db.user.findUniqueOrThrow({ where: { username }, select: { id: true } })).id
const reader = await user('bench_member_1')
const writer = await user('bench_member_3')
const stranger = await user('bench_member_2')
const readerProjects = await db.project.findMany({ where: { ownerId: reader }, select: { id: true }, orderBy: { id: 'asc' } })
const writerProject = (await db.project.findFirstOrThrow({ where: { ownerId: writer }, select: { id: true } })).id
const writerTask = (await db.task.findFirstOrThrow({ where: { projectId: writerProject }, select: { id: true } })).id
const strangerProject = (await db.project.findFirstOrThrow({ where: { ownerId: stranger }, select: { id: true } })).id
const readerAuth = `Bearer ${token(reader)}`
const writerAuth = `Bearer ${token(writer)}`

interface Scenario {
  name: string
  method: 'GET' | 'POST' | 'PATCH'
  path: string
  auth: string
  body?: object
  status: number
}
const scenarios: Scenario[] = [
  { name: 'list projects', method: 'GET', path: '/api/projects', auth: readerAuth, status: 200 },
  { name: 'list tasks', method: 'GET', path: '/api/tasks', auth: readerAuth, status: 200 },
  {
    name: 'list tasks of a project, search + ordering',
    method: 'GET',
    path: `/api/projects/${readerProjects[0]!.id}/tasks?search=task%201&ordering=-title`,
    auth: readerAuth,
    status: 200,
  },
  { name: 'get own project', method: 'GET', path: `/api/projects/${readerProjects[0]!.id}`, auth: readerAuth, status: 200 },
  { name: "get another user's project (404)", method: 'GET', path: `/api/projects/${strangerProject}`, auth: readerAuth, status: 404 },
  {
    name: 'create task',
    method: 'POST',
    path: '/api/tasks',
    auth: writerAuth,
    body: { projectId: writerProject, title: 'bench-created' },
    status: 201,
  },
  {
    name: "create task in another user's project (403)",
    method: 'POST',
    path: '/api/tasks',
    auth: writerAuth,
    body: { projectId: strangerProject, title: 'bench-created' },
    status: 403,
  },
  { name: 'patch task', method: 'PATCH', path: `/api/tasks/${writerTask}`, auth: writerAuth, body: { completed: true }, status: 200 },
]

async function call(server: Server, scenario: Scenario) {
  const res = await fetch(`http://127.0.0.1:${server.port}${scenario.path}`, {
    method: scenario.method,
    headers: { authorization: scenario.auth, ...(scenario.body ? { 'content-type': 'application/json' } : {}) },
    body: scenario.body ? JSON.stringify(scenario.body) : undefined,
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** Aborts before timing anything if a server answers wrongly. */
async function check(server: Server): Promise<void> {
  const fail = (what: string) => {
    throw new Error(`${server.name}: ${what}`)
  }
  const readerProjectIds = new Set(readerProjects.map((p) => p.id))
  for (const scenario of scenarios) {
    const res = await call(server, scenario)
    if (res.status !== scenario.status) fail(`${scenario.name}: status ${res.status}, expected ${scenario.status}`)
  }
  const projects = await call(server, scenarios[0]!)
  if (projects.body.total !== 10 || !(projects.body.items as Array<{ ownerId: number }>).every((p) => p.ownerId === reader))
    fail('list projects shows other rows')
  const tasks = await call(server, scenarios[1]!)
  if (tasks.body.total !== 200 || !(tasks.body.items as Array<{ projectId: number }>).every((t) => readerProjectIds.has(t.projectId)))
    fail('list tasks shows other rows')
}

const problems = await explainRequests(benchDatabaseUrl, SECRET, scenarios)
if (problems.length) {
  console.error(`hot queries that do not use an index:\n  ${problems.join('\n  ')}`)
  await db.$disconnect()
  await driver.close()
  process.exit(1)
}
console.error('EXPLAIN: every statement of every scenario uses an index on projects and tasks')

const results: Array<{ scenario: string; server: string; round: number; rps: number; p50: number; p99: number; unexpected: number }> = []
let rss: Record<string, number> = {}
try {
  for (const server of servers) await start(server, benchDatabaseUrl, '/api/projects', readerAuth)
  for (const server of servers) await check(server)
  console.error(
    `checked; timing ${scenarios.length} scenarios × ${servers.length} servers × ${ROUNDS} rounds × ${DURATION} s, ${CONNECTIONS} connections`,
  )
  for (const scenario of scenarios) {
    for (let round = 1; round <= ROUNDS; round++) {
      // Rotate the order each round, so no server always runs first.
      const order = servers.map((_, i) => servers[(i + round) % servers.length]!)
      for (const server of order) {
        const result = await autocannon({
          url: `http://127.0.0.1:${server.port}${scenario.path}`,
          method: scenario.method,
          headers: { authorization: scenario.auth, ...(scenario.body ? { 'content-type': 'application/json' } : {}) },
          body: scenario.body ? JSON.stringify(scenario.body) : undefined,
          connections: CONNECTIONS,
          duration: DURATION,
        })
        const expected2xx = scenario.status < 300
        const unexpected = expected2xx ? result.non2xx + result.errors : result['2xx'] + result.errors + result['5xx']
        results.push({
          scenario: scenario.name,
          server: server.name,
          round,
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          unexpected,
        })
      }
    }
  }
} finally {
  rss = Object.fromEntries(servers.filter((s) => s.child?.pid).map((s) => [s.name, peakRssMb(s.child!)]))
  await Promise.all(servers.map(stop))
  await db.task.deleteMany({ where: { title: 'bench-created' } })
  await db.task.update({ where: { id: writerTask }, data: { completed: false } })
  await db.$disconnect()
  await driver.close()
}

// Median over rounds per scenario × server.
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const rows = scenarios.map((scenario) => {
  const of = (name: string) => results.filter((r) => r.scenario === scenario.name && r.server === name)
  const stat = (name: string) => ({
    rps: median(of(name).map((r) => r.rps)),
    p50: median(of(name).map((r) => r.p50)),
    p99: median(of(name).map((r) => r.p99)),
    unexpected: of(name).reduce((n, r) => n + r.unexpected, 0),
  })
  return { scenario: scenario.name, policy: stat('policy'), handwritten: stat('handwritten'), raw: stat('raw-sql') }
})
const fmt = (n: number) => n.toFixed(0)
const markdown = [
  '| scenario | policy req/s | p50 / p99 ms | handwritten req/s | raw-sql req/s | policy ÷ handwritten | policy ÷ raw-sql |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${fmt(r.policy.rps)} | ${r.policy.p50} / ${r.policy.p99} | ${fmt(r.handwritten.rps)} | ${fmt(r.raw.rps)} | ${(r.policy.rps / r.handwritten.rps).toFixed(2)} | ${(r.policy.rps / r.raw.rps).toFixed(2)} |`,
  ),
  '',
  `Targets: policy ÷ handwritten ≥ 0.95 met in ${rows.filter((r) => r.policy.rps / r.handwritten.rps >= 0.95).length} of ${rows.length} scenarios; policy ÷ raw-sql ≥ 0.8 met in ${rows.filter((r) => r.policy.rps / r.raw.rps >= 0.8).length} of ${rows.length}; peak RSS ≤ 200 MB ${rss.policy !== undefined && rss.policy <= 200 ? 'met' : 'missed'}.`,
  '',
  `Peak RSS: ${Object.entries(rss)
    .map(([name, mb]) => `${name} ${mb.toFixed(0)} MB`)
    .join(', ')}. Unexpected statuses: ${rows.reduce((n, r) => n + r.policy.unexpected + r.handwritten.unexpected + r.raw.unexpected, 0)}.`,
].join('\n')
console.log(markdown)
const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')
const dir = join(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  duration: DURATION,
  rounds: ROUNDS,
  connections: CONNECTIONS,
  dataset: '10,000 projects / 200,000 tasks (+1 member with 50 × 20)',
}
writeFileSync(join(dir, `${stamp}-http.json`), `${JSON.stringify({ ...meta, rss, rows, runs: results }, null, 2)}\n`)
writeFileSync(
  join(dir, `${stamp}-http.md`),
  `# HTTP benchmark\n\n${meta.date}, Node ${meta.node}, PostgreSQL, ${meta.dataset}; ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION} s per server and scenario, load generator on the same machine.\n\n${markdown}\n`,
)
