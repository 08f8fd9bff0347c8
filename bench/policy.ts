// npm run bench:policy — what the policy layer costs: per request (ability from the cache vs
// rebuilt from rules, list filter, can()) at 3 and 1,000 rules, and the impact report of a
// proposed policy on 10k projects / 200k tasks in PostgreSQL (DATABASE_URL, default the local
// server's `projects_tasks_bench` database, seeded once). Writes bench/results/<date>-policy.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { subject } from '@casl/ability'
import { accessibleBy, createPrismaAbility } from '@casl/prisma/runtime'
import { interpolate } from '../src/authz/placeholders.ts'
import { RULES_FILE, readPoliciesDir, readRuleFile } from '../src/policy/files.ts'
import { impactOf } from '../src/policy/impact.ts'
import { review } from '../src/policy/review.ts'
import { compileRules } from '../src/policy/validate.ts'
import { PolicyStore } from '../src/policy/versions.ts'
import type { RoleRule, RuleDocument } from '../src/shared/rule-format.ts'
import { openBenchDatabase, seed } from './seed.ts'

interface Figure {
  name: string
  value: number
  unit: 'ns' | 'ms'
}
const figures: Figure[] = []

function perOp(name: string, iterations: number, run: (i: number) => unknown): void {
  for (let i = 0; i < Math.min(iterations, 10_000); i++) run(i)
  const started = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) run(i)
  figures.push({ name, value: Number(process.hrtime.bigint() - started) / iterations, unit: 'ns' })
}

async function median(name: string, runs: number, run: () => Promise<unknown>): Promise<void> {
  await run() // warm up: plans, caches
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const started = performance.now()
    await run()
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  figures.push({ name, value: times[Math.floor(times.length / 2)]!, unit: 'ms' })
}

function withExtraRules(shipped: RuleDocument, extra: number): RuleDocument {
  const rules = [...shipped.member!]
  for (let i = 0; i < extra; i++) {
    rules.push({
      id: `member.extra.${i}`,
      action: 'read',
      subject: i % 2 ? 'Project' : 'Task',
      conditions: i % 2 ? { name: `n${i}`, ownerId: '${user.id}' } : { title: `t${i}` },
    })
  }
  return { ...shipped, member: rules }
}

function requestCosts(shipped: RuleDocument): void {
  const users = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, username: `u${i}`, role: 'member' }))
  for (const [label, document] of [
    ['3 rules', shipped],
    ['1,000 rules', withExtraRules(shipped, 998)],
  ] as const) {
    const policy = compileRules(document, 1)
    const n = label === '3 rules' ? 200_000 : 5_000
    perOp(`${label}: ability from the cache (1,000 users)`, n * 5, (i) => policy.abilityFor(users[i % 1000]!))
    perOp(`${label}: ability rebuilt from rules`, n / 10, (i) =>
      createPrismaAbility(interpolate(document.member!, users[i % 1000]!) as never),
    )
    perOp(`${label}: cached ability + list filter (as requests do)`, n * 5, (i) =>
      policy.filterFor(policy.abilityFor(users[i % 1000]!), 'read', 'Task'),
    )
    perOp(`${label}: cached ability + accessibleBy() uncached`, n, (i) =>
      accessibleBy(policy.abilityFor(users[i % 1000]!), 'read').ofType('Task' as never),
    )
    const ability = policy.abilityFor(users[0]!)
    const task = subject('Task', { id: 1, projectId: 1, title: 't', project: { ownerId: 1 } })
    perOp(`${label}: can('update', task)`, n * 5, () => ability.can('update', task as never))
  }
}

async function impactCosts(): Promise<void> {
  const { db, driver } = await openBenchDatabase()
  try {
    await seed(db)
    const store = await PolicyStore.open(db, () => readPoliciesDir('policies'))
    const active = store.snapshot
    const proposals: Array<[string, RoleRule[]]> = [
      ['no change', active.rules],
      [
        'auditors may update every task (role-wide counts)',
        [...active.rules, { id: 'auditor.update-tasks', role: 'auditor', action: 'update', subject: 'Task' }],
      ],
      [
        'members also read completed tasks of any project (10 members considered)',
        [
          ...active.rules,
          { id: 'member.read-completed', role: 'member', action: 'read', subject: 'Task', conditions: { completed: true } },
        ],
      ],
    ]
    for (const [name, rules] of proposals) {
      const reviewed = await review(db, active, { rules }, { impact: false })
      if (!reviewed.valid) throw new Error(`${name}: invalid`)
      await median(`impact report: ${name}`, 5, () => impactOf(db, active.compiled, reviewed.compiled))
    }
    await median(`review without impact (validation + ${active.table.length}-row table + flips + lockout)`, 5, () =>
      review(db, active, { rules: proposals[1]![1] }, { impact: false }),
    )
  } finally {
    await db.$disconnect()
    await driver.close()
  }
}

const shipped = readRuleFile(join('policies', RULES_FILE))
requestCosts(shipped)
await impactCosts()

const format = (f: Figure) =>
  f.unit === 'ms' ? `${f.value.toFixed(1)} ms` : f.value >= 1000 ? `${(f.value / 1000).toFixed(2)} µs` : `${f.value.toFixed(0)} ns`
const markdown = ['| measurement | median / per op |', '|---|---|', ...figures.map((f) => `| ${f.name} | ${format(f)} |`)].join('\n')
console.log(markdown)
const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')
const dir = join(import.meta.dirname, 'results')
mkdirSync(dir, { recursive: true })
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  database: 'PostgreSQL, 10,000 projects / 200,000 tasks / 1,010 users',
}
writeFileSync(join(dir, `${stamp}-policy.json`), `${JSON.stringify({ ...meta, figures }, null, 2)}\n`)
writeFileSync(
  join(dir, `${stamp}-policy.md`),
  `# Policy layer benchmark\n\n${meta.date}, Node ${meta.node}, ${meta.database}\n\n${markdown}\n`,
)
