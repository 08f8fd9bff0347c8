// npm run soak [-- --duration 60 --connections 100 --warmup 15]
// Sustained mixed load from several members on PostgreSQL (the benchmark database): every
// response is checked (status, and lists hold only the caller's rows). Fails on any 5xx, any
// authorization violation, or server RSS growing 10% or more between the first and last 10 s.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { option, start, stop, token, type Server } from './harness.ts'
import { benchDatabaseUrl, openBenchDatabase, seed } from './seed.ts'

/** What the checks read of an answer: a page's items, or any other members. */
type JsonAnswer = { id: number; items: Array<{ ownerId: number; projectId: number }> } & Record<string, unknown>

const DURATION_S = option('duration', 60)
const CONNECTIONS = option('connections', 100)
/** Load before the measured window, so start-up (JIT, caches, pools) is not counted as growth. */
const WARMUP_S = option('warmup', 15)

const { db, driver } = await openBenchDatabase()
await seed(db)
const members = await db.user.findMany({
  where: { username: { startsWith: 'bench_member_' } },
  select: { id: true },
  orderBy: { id: 'asc' },
  take: 20,
})
const projectsOf = new Map<number, number[]>()
for (const m of members)
  projectsOf.set(
    m.id,
    (await db.project.findMany({ where: { ownerId: m.id }, select: { id: true } })).map((p) => p.id),
  )
const auth = new Map(members.map((m) => [m.id, `Bearer ${token(m.id)}`]))

const server: Server = { name: 'policy', script: 'src/server.ts', port: 3321 }
await start(server, benchDatabaseUrl, '/api/projects', auth.get(members[0]!.id)!)
const base = `http://127.0.0.1:${server.port}`
const rssOf = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.child!.pid}/status`, 'utf8'))![1]) / 1024

const statuses = new Map<number, number>()
const violations: string[] = []
let requests = 0
const random = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!

async function once(): Promise<void> {
  const me = random(members).id
  const mine = projectsOf.get(me)!
  const theirs = projectsOf.get(random(members.filter((m) => m.id !== me)).id)!
  const call = async (method: string, path: string, body?: object) => {
    const headers = { authorization: auth.get(me)!, ...(body ? { 'content-type': 'application/json' } : {}) }
    const res = await fetch(base + path, { method, headers, body: body ? JSON.stringify(body) : undefined })
    requests++
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
    return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as JsonAnswer) }
  }
  const expect = (what: string, ok: boolean) => {
    if (!ok) violations.push(`${what} (user ${me})`)
  }
  switch (Math.floor(Math.random() * 7)) {
    case 0: {
      const res = await call('GET', '/api/projects')
      expect('list projects', res.status === 200 && res.body!.items.every((p: { ownerId: number }) => p.ownerId === me))
      break
    }
    case 1: {
      const res = await call('GET', `/api/tasks?limit=100&completed=${Math.random() < 0.5}`)
      expect('list tasks', res.status === 200 && res.body!.items.every((t: { projectId: number }) => mine.includes(t.projectId)))
      break
    }
    case 2:
      expect('get own project', (await call('GET', `/api/projects/${random(mine)}`)).status === 200)
      break
    case 3:
      expect("get another's project", (await call('GET', `/api/projects/${random(theirs)}`)).status === 404)
      break
    case 4: {
      const res = await call('POST', '/api/tasks', { projectId: random(mine), title: 'soak' })
      expect('create task', res.status === 201)
      if (res.status === 201) expect('delete own task', (await call('DELETE', `/api/tasks/${res.body!.id}`)).status === 204)
      break
    }
    case 5:
      expect("create in another's project", (await call('POST', '/api/tasks', { projectId: random(theirs), title: 'soak' })).status === 403)
      break
    case 6: {
      const res = await call('GET', `/api/projects/${random(mine)}/tasks?limit=5&ordering=-title`)
      expect(
        'list own project tasks',
        res.status === 200 && res.body!.items.every((t: { projectId: number }) => mine.includes(t.projectId)),
      )
      break
    }
  }
}

const rss: number[] = []
let sampler: NodeJS.Timeout | undefined
const measuredFrom = Date.now() + WARMUP_S * 1000
const deadline = measuredFrom + DURATION_S * 1000
setTimeout(() => {
  statuses.clear()
  requests = 0
  sampler = setInterval(() => rss.push(rssOf()), 1000)
}, WARMUP_S * 1000)
const started = measuredFrom
try {
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < deadline) {
        try {
          await once()
        } catch (error) {
          violations.push(`request failed: ${(error as Error).message}`)
        }
      }
    }),
  )
} finally {
  clearInterval(sampler)
  await stop(server)
  await db.task.deleteMany({ where: { title: 'soak' } })
  await db.$disconnect()
  await driver.close()
}

const seconds = (Date.now() - started) / 1000
const avg = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1)
const first = avg(rss.slice(0, 10))
const last = avg(rss.slice(-10))
const growth = (last - first) / first
const fivexx = [...statuses].filter(([status]) => status >= 500).reduce((n, [, count]) => n + count, 0)
const summary = {
  date: new Date().toISOString(),
  durationS: Math.round(seconds),
  warmupS: WARMUP_S,
  connections: CONNECTIONS,
  requests,
  requestsPerSecond: Math.round(requests / seconds),
  statuses: Object.fromEntries(statuses),
  fivexx,
  violations: violations.length,
  firstViolations: violations.slice(0, 5),
  rssFirst10sMb: Math.round(first),
  rssLast10sMb: Math.round(last),
  rssGrowthPercent: Number((growth * 100).toFixed(1)),
  rssEvery10sMb: rss.filter((_, i) => i % 10 === 9).map(Math.round),
}
console.log(JSON.stringify(summary, null, 2))
const dir = join(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
writeFileSync(join(dir, `${summary.date.slice(0, 19).replace(/[:T]/g, '-')}-soak.json`), `${JSON.stringify(summary, null, 2)}\n`)
const passed = fivexx === 0 && violations.length === 0 && growth < 0.1
console.log(passed ? 'soak passed' : 'soak FAILED')
process.exitCode = passed ? 0 : 1
