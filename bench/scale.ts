// npm run bench -- --scale: list latency of the real server at 200k tasks and at 1M tasks
// (5,000 members × 10 projects × 20 tasks in its own database, then the newest member), as the
// newest and the oldest member, each a member of 50 projects of others besides their own (the
// task list is their owned and shared tasks), every statement EXPLAIN ANALYZEd for the rows it reads.
// Target: list p99 at 1M ≤ 1.5 × p99 at 200k. Writes bench/results/<date>-scale.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { explainRequests, type Request } from './explain.ts'
import { SECRET, start, stop, token, type Server } from './harness.ts'
import { benchDatabaseUrl, NEWEST, OLDEST, openBenchDatabase, seed, vacuumAnalyze } from './seed.ts'

const scaleUrl = (() => {
  const url = new URL(benchDatabaseUrl)
  url.pathname = `${url.pathname}_1m`
  return url.toString()
})()

const datasets = [
  { label: '200k tasks', url: benchDatabaseUrl, members: 1000 },
  { label: '1M tasks', url: scaleUrl, members: 5000 },
]

const rows: Array<{ dataset: string; scenario: string; rps: number; p50: number; p99: number }> = []
for (const dataset of datasets) {
  const { db, driver } = await openBenchDatabase(dataset.url)
  await seed(db, { members: dataset.members })
  const tasks = await db.task.count()
  const scenarios: Request[] = []
  for (const [label, username] of [
    ['newest', NEWEST],
    ['oldest', OLDEST],
  ] as const) {
    const id = (await db.user.findUniqueOrThrow({ where: { username }, select: { id: true } })).id
    const project = (await db.project.findFirstOrThrow({ where: { ownerId: id }, select: { id: true } })).id
    const readable = { OR: [{ ownerId: id }, { members: { some: { userId: id } } }] }
    const owned = await db.project.count({ where: { ownerId: id } })
    const projects = await db.project.count({ where: readable })
    const rows = projects + (await db.task.count({ where: { project: { is: readable } } }))
    const auth = `Bearer ${token(id)}`
    const budget = 3 * rows + 100
    scenarios.push(
      { name: `${label}: list projects`, method: 'GET', path: '/api/projects', auth, budget },
      {
        name: `${label}: list tasks as a member of ${projects - owned} shared + ${owned} owned projects`,
        method: 'GET',
        path: '/api/tasks',
        auth,
        budget,
      },
      {
        name: `${label}: list tasks of a project, search + ordering`,
        method: 'GET',
        path: `/api/projects/${project}/tasks?search=task%201&ordering=-title`,
        auth,
        budget,
      },
    )
  }
  await vacuumAnalyze(db)
  await db.$disconnect()
  await driver.close()
  const problems = (await explainRequests(dataset.url, SECRET, scenarios)).flatMap((r) => r.problems)
  if (problems.length) {
    console.error(`${dataset.label}: statements that read more than their budget:\n  ${problems.join('\n  ')}`)
    process.exit(1)
  }
  const server: Server = { name: 'policy', script: 'src/server.ts', port: 3311 }
  await start(server, dataset.url, '/api/projects', scenarios[0]!.auth)
  try {
    for (const scenario of scenarios) {
      const result = await autocannon({
        url: `http://127.0.0.1:${server.port}${scenario.path}`,
        headers: { authorization: scenario.auth },
        connections: 20,
        duration: 5,
      })
      if (result.non2xx || result.errors)
        throw new Error(`${dataset.label} ${scenario.name}: ${result.non2xx} non-2xx, ${result.errors} errors`)
      rows.push({
        dataset: `${dataset.label} (${tasks.toLocaleString('en')})`,
        scenario: scenario.name,
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
      })
    }
  } finally {
    await stop(server)
  }
}

const lines = [
  '| scenario | dataset | req/s | p50 ms | p99 ms |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.scenario} | ${r.dataset} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} |`),
  '',
]
for (const name of new Set(rows.map((r) => r.scenario))) {
  const [small, large] = rows.filter((r) => r.scenario === name)
  lines.push(`- ${name}: p99 at 1M ÷ p99 at 200k = ${(large!.p99 / small!.p99).toFixed(2)} (target ≤ 1.5)`)
}
const markdown = lines.join('\n')
console.log(markdown)
const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')
const dir = join(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, `${stamp}-scale.json`), `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`)
writeFileSync(
  join(dir, `${stamp}-scale.md`),
  `# Scale benchmark\n\n${new Date().toISOString()}, Node ${process.version}, PostgreSQL; 20 connections, 5 s per scenario; as the newest and the oldest member; every statement EXPLAIN ANALYZEd (no statement reads more than 3 × the caller's owned and shared rows + 100 of a table, none scans a table sequentially).\n\n${markdown}\n`,
)
