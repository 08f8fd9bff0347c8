// npm run bench:profile [-- --duration 10 --connections 20]
// Where the server's CPU goes: the compiled server under `node --cpu-prof` on the benchmark
// database (bench/seed.ts), loaded with one scenario at a time as the newest member, then the
// samples' self time grouped by package (Prisma's runtime, pg, Fastify, CASL, …) and by
// function. Proportions, not speeds: they hold on a busy machine too.
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { option, SECRET, token, waitUntilAnswering } from './harness.ts'
import { benchDatabaseUrl, NEWEST, openBenchDatabase, seed } from './seed.ts'

const DURATION = option('duration', 10)
const CONNECTIONS = option('connections', 20)
const PORT = 3321
const SERVER = join(import.meta.dirname, '..', 'dist', 'server', 'server.js')

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
}

/** `node_modules/@prisma/client/…` → `@prisma/client`; the server's own code → `server`; the rest by kind. */
function packageOf(url: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (match) return match[1]!
  if (url.includes('/dist/server/')) return 'server (our code)'
  if (url.startsWith('node:')) return 'node (built-in modules)'
  return url === '' ? 'V8 / native (GC, idle, program)' : url
}

function summarize(profile: Profile, top = 12): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const selfSamples = new Map<number, number>()
  for (const id of profile.samples) selfSamples.set(id, (selfSamples.get(id) ?? 0) + 1)
  const byPackage = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let total = 0
  for (const [id, count] of selfSamples) {
    const frame = byId.get(id)!.callFrame
    if (frame.functionName === '(idle)') continue
    total += count
    const pkg = packageOf(frame.url)
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + count)
    const fn = `${frame.functionName || '(anonymous)'} ${pkg}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + count)
  }
  const share = (count: number) => `${((100 * count) / total).toFixed(1)}%`
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]).slice(0, top)
  return [
    '| package | share of busy samples |',
    '|---|---|',
    ...sorted(byPackage).map(([name, count]) => `| ${name} | ${share(count)} |`),
    '',
    '| function (self time) | share |',
    '|---|---|',
    ...sorted(byFunction).map(([name, count]) => `| ${name} | ${share(count)} |`),
  ]
}

const { db, driver } = await openBenchDatabase()
await seed(db)
const newest = await db.user.findUniqueOrThrow({ where: { username: NEWEST }, select: { id: true } })
const project = await db.project.findFirstOrThrow({ where: { ownerId: newest.id }, select: { id: true }, orderBy: { id: 'asc' } })
await db.$disconnect()
await driver.close()
const auth = `Bearer ${token(newest.id)}`
const scenarios = [
  { name: 'list tasks', path: '/api/tasks' },
  { name: 'get own project', path: `/api/projects/${project.id}` },
]

for (const scenario of scenarios) {
  const dir = mkdtempSync(join(tmpdir(), 'projects-tasks-profile-'))
  const child = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, SERVER], {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: benchDatabaseUrl,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  try {
    await waitUntilAnswering(`http://127.0.0.1:${PORT}/ready`, child)
    const result = await autocannon({
      url: `http://127.0.0.1:${PORT}${scenario.path}`,
      headers: { authorization: auth },
      connections: CONNECTIONS,
      duration: DURATION,
    })
    await new Promise((resolve) => {
      child.once('exit', resolve)
      child.kill('SIGTERM')
    })
    const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))
    if (!file) throw new Error('no profile was written')
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
    console.log(`\n## ${scenario.name} (newest member): ${result.requests.average.toFixed(0)} req/s under the profiler\n`)
    console.log(summarize(profile).join('\n'))
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}
