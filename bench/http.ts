// npm run bench [-- --duration 5 --rounds 2]
// The API over HTTP on PostgreSQL, side by side with two baselines started the same way:
//   policy       the real server (policies/ → accessibleBy / ForbiddenError)
//   handwritten  the same plugins and shapes, ownership typed into each handler (bench/baselines)
//   raw-sql      Fastify + pg + hand-written SQL, the machine's ceiling for the work
// Every scenario runs as the newest member (rows at the end of every table) and as the oldest
// (rows at the start), each a member of 50 projects of others (viewer and editor) besides their
// own: lists read owned and shared rows, and reads and writes in shared projects are timed too. Servers run interleaved per scenario so machine drift hits all three
// alike. Responses are checked for correctness and every statement's plan for the rows it reads
// (bench/explain.ts) before anything is timed, on a VACUUM ANALYZEd database. Writes bench/results/<date>-http.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { explainRequests, type Request } from './explain.ts'
import { option, peakRssMb, SECRET, start, stop, token, type Server } from './harness.ts'
import { benchDatabaseUrl, NEWEST, OLDEST, openBenchDatabase, OTHERS_MEMBERSHIPS, seed, SHARED_PROJECTS, vacuumAnalyze } from './seed.ts'

const args = process.argv.slice(2)

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
const userId = async (username: string) => (await db.user.findUniqueOrThrow({ where: { username }, select: { id: true } })).id
const stranger = await userId('bench_member_2')
const benchCallers = [await userId(NEWEST), await userId(OLDEST)]
// A project neither caller may read: not theirs, not shared with them.
const strangerProject = (
  await db.project.findFirstOrThrow({
    where: { ownerId: stranger, members: { none: { userId: { in: benchCallers } } } },
    select: { id: true },
    orderBy: { id: 'asc' },
  })
).id

interface Scenario extends Request {
  status: number
}

/** The caller, the rows it may read (for the answers' check and the plans' budget) and what it does. */
interface Caller {
  label: string
  id: number
  /** Projects it owns or is a member of. */
  projectIds: Set<number>
  tasks: number
  task: number
  sharedTask: number
  scenarios: Scenario[]
}

async function caller(label: string, username: string): Promise<Caller> {
  const id = await userId(username)
  const readable = { OR: [{ ownerId: id }, { members: { some: { userId: id } } }] }
  const projects = await db.project.findMany({ where: readable, select: { id: true, ownerId: true }, orderBy: { id: 'asc' } })
  const owned = projects.filter((p) => p.ownerId === id)
  const tasks = await db.task.count({ where: { project: { is: readable } } })
  const first = owned[0]!.id
  const firstTask = async (projectId: number) =>
    (await db.task.findFirstOrThrow({ where: { projectId }, select: { id: true }, orderBy: { id: 'asc' } })).id
  const task = await firstTask(first)
  const sharedAs = async (role: string) =>
    (await db.projectMember.findFirstOrThrow({ where: { userId: id, role }, select: { projectId: true }, orderBy: { id: 'asc' } }))
      .projectId
  const viewerProject = await sharedAs('viewer')
  const editorProject = await sharedAs('editor')
  const sharedTask = await firstTask(viewerProject)
  const auth = `Bearer ${token(id)}`
  // A plan may read a few times the caller's rows (owned and shared), never a share of the table.
  const budget = 3 * (tasks + projects.length) + 100
  const scenario = (name: string, rest: Omit<Scenario, 'name' | 'auth' | 'budget'>): Scenario => ({
    name: `${label}: ${name}`,
    auth,
    budget,
    ...rest,
  })
  const shared = projects.length - owned.length
  return {
    label,
    id,
    projectIds: new Set(projects.map((p) => p.id)),
    tasks,
    task,
    sharedTask,
    scenarios: [
      scenario(`list projects (${owned.length} owned + ${shared} shared)`, { method: 'GET', path: '/api/projects', status: 200 }),
      scenario(`list tasks as a member of ${shared} shared + ${owned.length} owned projects`, {
        method: 'GET',
        path: '/api/tasks',
        status: 200,
      }),
      scenario('list tasks of a project, search + ordering', {
        method: 'GET',
        path: `/api/projects/${first}/tasks?search=task%201&ordering=-title`,
        status: 200,
      }),
      scenario('get own project', { method: 'GET', path: `/api/projects/${first}`, status: 200 }),
      scenario("get another user's project (404)", { method: 'GET', path: `/api/projects/${strangerProject}`, status: 404 }),
      scenario('get a task of a shared project', { method: 'GET', path: `/api/tasks/${sharedTask}`, status: 200 }),
      scenario('create task', { method: 'POST', path: '/api/tasks', body: { projectId: first, title: 'bench-created' }, status: 201 }),
      scenario("create task in another user's project (403)", {
        method: 'POST',
        path: '/api/tasks',
        body: { projectId: strangerProject, title: 'bench-created' },
        status: 403,
      }),
      scenario('create a task in a project shared as viewer (403)', {
        method: 'POST',
        path: '/api/tasks',
        body: { projectId: viewerProject, title: 'bench-created' },
        status: 403,
      }),
      scenario('create a task in a project shared as editor (201)', {
        method: 'POST',
        path: '/api/tasks',
        body: { projectId: editorProject, title: 'bench-created' },
        status: 201,
      }),
      scenario('patch task', { method: 'PATCH', path: `/api/tasks/${task}`, body: { completed: true }, status: 200 }),
    ],
  }
}

// The newest member's rows are the last of every table, the oldest's the first (bench/seed.ts).
const callers = [await caller('newest', NEWEST), await caller('oldest', OLDEST)]
const scenarios = callers.flatMap((c) => c.scenarios)

async function call(server: Server, scenario: Scenario) {
  const res = await fetch(`http://127.0.0.1:${server.port}${scenario.path}`, {
    method: scenario.method,
    headers: { authorization: scenario.auth, ...(scenario.body ? { 'content-type': 'application/json' } : {}) },
    body: scenario.body ? JSON.stringify(scenario.body) : undefined,
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

async function cleanUp(): Promise<void> {
  await db.task.deleteMany({ where: { title: 'bench-created' } })
  await db.task.updateMany({ where: { id: { in: callers.map((c) => c.task) } }, data: { completed: false } })
}

/** Aborts before timing anything if a server answers wrongly. */
async function check(server: Server): Promise<void> {
  const fail = (what: string) => {
    throw new Error(`${server.name}: ${what}`)
  }
  for (const c of callers) {
    const projects = await call(server, c.scenarios[0]!)
    if (projects.body.total !== c.projectIds.size || !(projects.body.items as Array<{ id: number }>).every((p) => c.projectIds.has(p.id)))
      fail(`${c.label}: list projects shows other rows`)
    const tasks = await call(server, c.scenarios[1]!)
    if (tasks.body.total !== c.tasks || !(tasks.body.items as Array<{ projectId: number }>).every((t) => c.projectIds.has(t.projectId)))
      fail(`${c.label}: list tasks shows other rows`)
    const shared = await call(
      server,
      c.scenarios.find((s) => s.path === `/api/tasks/${c.sharedTask}`)!,
    )
    if (shared.body.id !== c.sharedTask) fail(`${c.label}: get a task of a shared project answers another`)
  }
  // Writes last: the totals above count the seeded rows.
  for (const scenario of scenarios) {
    const res = await call(server, scenario)
    if (res.status !== scenario.status) fail(`${scenario.name}: status ${res.status}, expected ${scenario.status}`)
  }
  await cleanUp()
}

const reports = await explainRequests(benchDatabaseUrl, SECRET, scenarios)
await cleanUp()
const planProblems = reports.flatMap((r) => r.problems)
if (planProblems.length) {
  console.error(`statements that read more than their budget:\n  ${planProblems.join('\n  ')}`)
  if (!args.includes('--allow-bad-plans')) {
    await db.$disconnect()
    await driver.close()
    process.exit(1)
  }
} else {
  console.error("EXPLAIN ANALYZE: no statement of any scenario reads more than a few times the caller's rows (custom and generic plans)")
}
await vacuumAnalyze(db)

async function countRows(): Promise<number> {
  const { db, driver } = await openBenchDatabase()
  try {
    return await db.task.count()
  } finally {
    await db.$disconnect()
    await driver.close()
  }
}

const results: Array<{ scenario: string; server: string; round: number; rps: number; p50: number; p99: number; unexpected: number }> = []
let rss: Record<string, number> = {}
try {
  for (const server of servers) await start(server, benchDatabaseUrl, '/api/projects', scenarios[0]!.auth)
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
  await cleanUp()
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
const plan = (server: string, scenario: string) => reports.find((r) => r.server === server && r.request === scenario)!
const markdown = [
  '| scenario | policy req/s | p50 / p99 ms | handwritten req/s | p50 / p99 ms | raw-sql req/s | p50 / p99 ms | policy ÷ handwritten | policy ÷ raw-sql |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${fmt(r.policy.rps)} | ${r.policy.p50} / ${r.policy.p99} | ${fmt(r.handwritten.rps)} | ${r.handwritten.p50} / ${r.handwritten.p99} | ${fmt(r.raw.rps)} | ${r.raw.p50} / ${r.raw.p99} | ${(r.policy.rps / r.handwritten.rps).toFixed(2)} | ${(r.policy.rps / r.raw.rps).toFixed(2)} |`,
  ),
  '',
  `Targets: policy ÷ handwritten ≥ 0.95 met in ${rows.filter((r) => r.policy.rps / r.handwritten.rps >= 0.95).length} of ${rows.length} scenarios; policy ÷ raw-sql ≥ 0.8 met in ${rows.filter((r) => r.policy.rps / r.raw.rps >= 0.8).length} of ${rows.length}; peak RSS ≤ 200 MB ${rss.policy !== undefined && rss.policy <= 200 ? 'met' : 'missed'}.`,
  '',
  `Peak RSS: ${Object.entries(rss)
    .map(([name, mb]) => `${name} ${mb.toFixed(0)} MB`)
    .join(', ')}. Unexpected statuses: ${rows.reduce((n, r) => n + r.policy.unexpected + r.handwritten.unexpected + r.raw.unexpected, 0)}.`,
  '',
  "Most rows one statement read of one table (EXPLAIN ANALYZE, custom and generic plans; budget: 3 × the caller's rows + 100):",
  '',
  '| scenario | budget | policy | raw-sql |',
  '|---|---|---|---|',
  ...scenarios.map(
    (s) =>
      `| ${s.name} | ${s.budget} | ${plan('policy', s.name).maxRows} ${plan('policy', s.name).where} | ${plan('raw-sql', s.name).maxRows} ${plan('raw-sql', s.name).where} |`,
  ),
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
  dataset: `${(await countRows()).toLocaleString('en')} tasks: 1,000 members × 10 × 20, then the newest member with 50 × 20; newest = ${NEWEST}, oldest = ${OLDEST}, each a member of ${SHARED_PROJECTS} projects of others (viewer and editor in turn); every other member of ${OTHERS_MEMBERSHIPS}`,
}
writeFileSync(join(dir, `${stamp}-http.json`), `${JSON.stringify({ ...meta, rss, rows, runs: results }, null, 2)}\n`)
writeFileSync(
  join(dir, `${stamp}-http.md`),
  `# HTTP benchmark\n\n${meta.date}, Node ${meta.node}, PostgreSQL, ${meta.dataset}; ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION} s per server and scenario, load generator on the same machine.\n\n${markdown}\n`,
)
