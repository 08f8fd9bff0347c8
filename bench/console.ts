/// <reference lib="dom" />
// npm run bench:console — how the admin console feels on the benchmark database (10k projects,
// 200k tasks in PostgreSQL; DATABASE_URL, default the local `projects_tasks_bench`, seeded once),
// in Debian's headless Chromium: a cold load to the sign-in form (and the bytes it moves), sign-in
// to the rules shown and checked, a reload with a session, and an edit to the review's flips and
// impact on live data. Nothing is activated. Writes bench/results/<date>-console.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Page } from 'playwright-core'
import { hashPassword } from '../src/auth/password.ts'
import { buildConsole } from '../scripts/build-console.ts'
import { CHROMIUM, CHROMIUM_FLAGS } from '../test/helpers/browser.ts'
import { start, stop, token, type Server } from './harness.ts'
import { benchDatabaseUrl, openBenchDatabase, seed } from './seed.ts'

const RUNS = 10
const USERNAME = 'bench_console_admin'
const PASSWORD = 'bench console password'

await buildConsole()
const { db, driver } = await openBenchDatabase()
await seed(db)
const passwordHash = await hashPassword(PASSWORD)
const admin = await db.user.upsert({
  where: { username: USERNAME },
  create: { username: USERNAME, passwordHash, role: 'admin' },
  update: { passwordHash, role: 'admin' },
})
await driver.close()

const server: Server = { name: 'policy', script: 'src/server.ts', port: 3331 }
const auth = `Bearer ${token(admin.id)}`
await start(server, benchDatabaseUrl, '/api/me', auth)
const { rules } = (await (
  await fetch(`http://127.0.0.1:${server.port}/api/admin/policies`, { headers: { authorization: auth } })
).json()) as { rules: unknown[] }
const base = `http://127.0.0.1:${server.port}/admin/`
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS })

interface Figure {
  name: string
  median: number
  p90: number
  unit: 'ms' | 'KB'
}
const figures: Figure[] = []
function record(name: string, values: number[], unit: Figure['unit'] = 'ms') {
  const sorted = [...values].sort((a, b) => a - b)
  figures.push({ name, median: sorted[Math.floor(sorted.length / 2)]!, p90: sorted[Math.ceil(sorted.length * 0.9) - 1]!, unit })
}
const timed = async (run: () => Promise<unknown>) => {
  const started = performance.now()
  await run()
  return performance.now() - started
}
// Checked every animation frame: Playwright's own waits poll at up to 500 ms intervals.
const until = (page: Page, condition: (arg: number) => boolean, arg = 0) =>
  page.waitForFunction(condition, arg, { polling: 'raf', timeout: 30_000 })
const rulesShown = (page: Page) =>
  until(
    page,
    (n) =>
      document.querySelectorAll('article.rule').length === n &&
      /Valid|fail/.test(document.querySelector('[data-testid="check-status"]')?.textContent ?? ''),
    rules.length,
  )

const cold: number[] = []
const transferred: number[] = []
const signIn: number[] = []
const warm: number[] = []
const review: number[] = []
const validate: number[] = []
for (let run = 0; run < RUNS; run++) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } }) // empty cache
  const page = await context.newPage()
  cold.push(
    await timed(async () => {
      await page.goto(base, { waitUntil: 'commit' })
      await until(page, () => document.querySelector('input[name="username"]') !== null)
    }),
  )
  transferred.push(
    await page.evaluate(
      () =>
        performance
          .getEntriesByType('navigation')
          .concat(performance.getEntriesByType('resource'))
          .reduce((sum, entry) => sum + (entry as PerformanceResourceTiming).transferSize, 0) / 1024,
    ),
  )
  await page.getByLabel('Username').fill(USERNAME)
  await page.getByLabel('Password').fill(PASSWORD)
  signIn.push(
    await timed(async () => {
      await page.getByRole('button', { name: 'Sign in' }).click()
      await rulesShown(page)
    }),
  )
  warm.push(
    await timed(async () => {
      await page.reload({ waitUntil: 'commit' })
      await rulesShown(page)
    }),
  )
  await page.getByRole('button', { name: 'Edit rule auditor.read-tasks' }).click()
  await page.getByRole('checkbox', { name: 'update' }).check()
  await page.evaluate(() => performance.clearResourceTimings())
  review.push(
    await timed(async () => {
      await page.getByRole('button', { name: 'Save to draft' }).click()
      await page.goto(`${base}#/review`)
      await until(page, () => /\+\d+ tasks/.test(document.querySelector('table.impact tr[data-role="auditor"]')?.textContent ?? ''))
    }),
  )
  validate.push(
    await page.evaluate(() => {
      const call = performance
        .getEntriesByType('resource')
        .filter((entry) => entry.name.endsWith('/api/admin/policies/validate'))
        .at(-1) as PerformanceResourceTiming
      return call.responseEnd - call.requestStart
    }),
  )
  await context.close()
}
await browser.close()
await stop(server)

record('cold load → sign-in form (empty cache)', cold)
record('bytes moved by a cold load', transferred, 'KB')
record('sign in → rules shown and checked (login, /me, policy, validate with impact)', signIn)
record('reload with a session → rules shown and checked', warm)
record('save an edit in the form → review shows flips and impact (checked at once; typing waits 350 ms)', review)
record('POST /validate of that edit (table, flips, impact on 200k tasks)', validate)

const date = new Date().toISOString()
const lines = [
  `# Admin console in headless Chromium, ${date}`,
  '',
  `Benchmark database (10k projects, 200k tasks, PostgreSQL), ${RUNS} runs each, one server process, 1280×800.`,
  '',
  '| measure | median | p90 |',
  '|---|---|---|',
  ...figures.map(
    (f) => `| ${f.name} | ${f.median.toFixed(f.unit === 'KB' ? 1 : 0)} ${f.unit} | ${f.p90.toFixed(f.unit === 'KB' ? 1 : 0)} ${f.unit} |`,
  ),
]
console.log(lines.join('\n'))
const dir = join(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
const stem = `${date.slice(0, 19).replace(/[:T]/g, '-')}-console`
writeFileSync(join(dir, `${stem}.json`), `${JSON.stringify({ date, runs: RUNS, figures }, null, 2)}\n`)
writeFileSync(join(dir, `${stem}.md`), `${lines.join('\n')}\n`)
