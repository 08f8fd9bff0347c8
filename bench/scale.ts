// npm run bench -- --scale: list latency of the real server at 200k tasks and at 1M tasks
// (5,000 members × 10 projects × 20 tasks in its own database), every hot statement EXPLAINed.
// Target: list p99 at 1M ≤ 1.5 × p99 at 200k. Writes bench/results/<date>-scale.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { explainRequests } from './explain.ts'
import { SECRET, start, stop, token, type Server } from './harness.ts'
import { benchDatabaseUrl, openBenchDatabase, seed } from './seed.ts'

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
  const reader = (await db.user.findUniqueOrThrow({ where: { username: 'bench_member_1' }, select: { id: true } })).id
  const project = (await db.project.findFirstOrThrow({ where: { ownerId: reader }, select: { id: true } })).id
  const tasks = await db.task.count()
  await db.$disconnect()
  await driver.close()
  const auth = `Bearer ${token(reader)}`
  const scenarios = [
    { name: 'list projects', method: 'GET' as const, path: '/api/projects', auth },
    { name: 'list tasks', method: 'GET' as const, path: '/api/tasks', auth },
    {
      name: 'list tasks of a project, search + ordering',
      method: 'GET' as const,
      path: `/api/projects/${project}/tasks?search=task%201&ordering=-title`,
      auth,
    },
  ]
  const problems = await explainRequests(dataset.url, SECRET, scenarios)
  if (problems.length) {
    console.error(`${dataset.label}: hot queries that do not use an index:\n  ${problems.join('\n  ')}`)
    process.exit(1)
  }
  const server: Server = { name: 'policy', script: 'src/server.ts', port: 3311 }
  await start(server, dataset.url, '/api/projects', auth)
  try {
    for (const scenario of scenarios) {
      const result = await autocannon({
        url: `http://127.0.0.1:${server.port}${scenario.path}`,
        headers: { authorization: auth },
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
  `# Scale benchmark\n\n${new Date().toISOString()}, Node ${process.version}, PostgreSQL; 20 connections, 5 s per scenario; every hot statement EXPLAINed (no sequential scans).\n\n${markdown}\n`,
)
