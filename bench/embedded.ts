// npm run bench:embedded [-- --duration 5 --connections 20 --members 1000]
// What `npm start` gives a newcomer: the compiled server (`node dist/server/server.js`, built by
// the npm script first) on its embedded PGlite database, no DATABASE_URL. Measures the first
// start (initdb + migrations), the start on an existing database (median of 3), then the main
// scenarios as the newest and the oldest member, and the server's peak RSS. Writes
// bench/results/<date>-embedded.{json,md}.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { openDatabase } from '../src/db/open.ts'
import { option, peakRssMb, SECRET, token, waitUntilAnswering } from './harness.ts'
import { NEWEST, OLDEST, seed, vacuumAnalyze } from './seed.ts'

const DURATION = option('duration', 5)
const CONNECTIONS = option('connections', 20)
const MEMBERS = option('members', 1000)
const PORT = 3311
const SERVER = join(import.meta.dirname, '..', 'dist', 'server', 'server.js')
const dataDir = mkdtempSync(join(tmpdir(), 'projects-tasks-embedded-'))
const silent = { info: () => {} }

/** Starts the compiled server on the embedded database and resolves when `/ready` answers 200, with the time it took. */
async function startServer(): Promise<{ child: ChildProcess; ms: number }> {
  const started = performance.now()
  const child = spawn(process.execPath, [SERVER], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: '',
      DATA_DIR: dataDir,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  await waitUntilAnswering(`http://127.0.0.1:${PORT}/ready`, child)
  return { child, ms: performance.now() - started }
}

function stopServer(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

try {
  const first = await startServer()
  await stopServer(first.child)

  // PGlite is one process's database: seed while the server is stopped.
  const { db, driver } = await openDatabase({ databaseUrl: undefined, dataDir }, silent)
  await seed(db, { members: MEMBERS })
  await vacuumAnalyze(db)
  const callerOf = async (username: string) => {
    const user = await db.user.findUniqueOrThrow({ where: { username }, select: { id: true } })
    const project = await db.project.findFirstOrThrow({ where: { ownerId: user.id }, select: { id: true }, orderBy: { id: 'asc' } })
    return { label: username === NEWEST ? 'newest' : 'oldest', auth: `Bearer ${token(user.id)}`, project: project.id }
  }
  const callers = [await callerOf(NEWEST), await callerOf(OLDEST)]
  const stranger = await db.project.findFirstOrThrow({ where: { owner: { username: 'bench_member_2' } }, select: { id: true } })
  const tasks = await db.task.count()
  await db.$disconnect()
  await driver.close()

  const restarts: number[] = []
  for (let i = 0; i < 3; i++) {
    const { child, ms } = await startServer()
    restarts.push(ms)
    await stopServer(child)
  }

  const scenarios = callers.flatMap((c) => [
    { name: `${c.label}: list projects`, auth: c.auth, method: 'GET' as const, path: '/api/projects', status: 200 },
    { name: `${c.label}: list tasks`, auth: c.auth, method: 'GET' as const, path: '/api/tasks', status: 200 },
    { name: `${c.label}: get own project`, auth: c.auth, method: 'GET' as const, path: `/api/projects/${c.project}`, status: 200 },
    {
      name: `${c.label}: get another user's project (404)`,
      auth: c.auth,
      method: 'GET' as const,
      path: `/api/projects/${stranger.id}`,
      status: 404,
    },
    {
      name: `${c.label}: create task`,
      auth: c.auth,
      method: 'POST' as const,
      path: '/api/tasks',
      body: { projectId: c.project, title: 'bench-created' },
      status: 201,
    },
    {
      name: `${c.label}: create task in another user's project (403)`,
      auth: c.auth,
      method: 'POST' as const,
      path: '/api/tasks',
      body: { projectId: stranger.id, title: 'bench-created' },
      status: 403,
    },
  ])
  const { child } = await startServer()
  const rows: Array<{ scenario: string; rps: number; p50: number; p99: number; unexpected: number }> = []
  let rss = 0
  try {
    for (const scenario of scenarios) {
      const result = await autocannon({
        url: `http://127.0.0.1:${PORT}${scenario.path}`,
        method: scenario.method,
        headers: { authorization: scenario.auth, ...('body' in scenario ? { 'content-type': 'application/json' } : {}) },
        body: 'body' in scenario ? JSON.stringify(scenario.body) : undefined,
        connections: CONNECTIONS,
        duration: DURATION,
      })
      const unexpected = scenario.status < 300 ? result.non2xx + result.errors : result['2xx'] + result.errors + result['5xx']
      rows.push({ scenario: scenario.name, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, unexpected })
      console.error(`${scenario.name}: ${result.requests.average.toFixed(0)} req/s, p99 ${result.latency.p99} ms`)
    }
  } finally {
    rss = peakRssMb(child)
    await stopServer(child)
  }

  const markdown = [
    `First start (initdb + migrations) to \`/ready\`: ${first.ms.toFixed(0)} ms (target ≤ 3,000). Start on the existing database: ${median(restarts).toFixed(0)} ms, median of ${restarts.map((ms) => ms.toFixed(0)).join(', ')} (target ≤ 1,000). Peak RSS under load: ${rss.toFixed(0)} MB (target ≤ 200).`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | unexpected statuses |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.scenario} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.unexpected} |`),
  ].join('\n')
  console.log(markdown)
  const date = new Date().toISOString()
  const stamp = date.slice(0, 19).replace(/[:T]/g, '-')
  const dir = join(import.meta.dirname, 'results')
  mkdirSync(dir, { recursive: true })
  const meta = { date, node: process.version, duration: DURATION, connections: CONNECTIONS, tasks }
  writeFileSync(
    join(dir, `${stamp}-embedded.json`),
    `${JSON.stringify({ ...meta, firstStartMs: first.ms, restartsMs: restarts, rss, rows }, null, 2)}\n`,
  )
  writeFileSync(
    join(dir, `${stamp}-embedded.md`),
    `# Embedded database benchmark\n\n${date}, Node ${process.version}, the compiled server on PGlite (no DATABASE_URL), ${tasks.toLocaleString('en')} tasks (${MEMBERS} members × 10 × 20, then ${NEWEST} with 50 × 20; oldest = ${OLDEST}); ${CONNECTIONS} connections, ${DURATION} s per scenario, load generator on the same machine.\n\n${markdown}\n`,
  )
} finally {
  rmSync(dataDir, { recursive: true, force: true })
}
