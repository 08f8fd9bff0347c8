// npm run bench:micro — in-process cost of the policy layer per request: building the caller's
// ability (cached vs rebuilt), accessibleBy() for a list filter, and can() on one object, for
// the shipped 3-rule member policy and for a 1,000-rule one.
import { subject } from '@casl/ability'
import { accessibleBy, createPrismaAbility } from '@casl/prisma/runtime'
import { CompiledPolicy } from '../src/authz/compile.ts'
import { interpolate } from '../src/authz/placeholders.ts'
import { readPolicyDir, type PolicyDocument } from '../src/authz/policy.ts'

function measure(name: string, iterations: number, run: (i: number) => unknown): { name: string; nsPerOp: number } {
  for (let i = 0; i < Math.min(iterations, 10_000); i++) run(i) // warm up
  const started = process.hrtime.bigint()
  let sink = 0
  for (let i = 0; i < iterations; i++) sink += run(i) ? 1 : 0
  const ns = Number(process.hrtime.bigint() - started) / iterations
  if (sink < 0) console.log(sink)
  return { name, nsPerOp: ns }
}

function bigPolicy(shipped: PolicyDocument, extra: number): PolicyDocument {
  const rules = [...shipped.member!]
  for (let i = 0; i < extra; i++) {
    rules.push({ id: `member.extra.${i}`, action: 'read', subject: i % 2 ? 'Project' : 'Task', conditions: i % 2 ? { name: `n${i}`, ownerId: '${user.id}' } : { title: `t${i}` } })
  }
  return { ...shipped, member: rules }
}

const shipped = readPolicyDir('policies')
const results: Array<{ name: string; nsPerOp: number }> = []
for (const [label, document] of [['3 rules', shipped], ['1,000 rules', bigPolicy(shipped, 998)]] as const) {
  const policy = new CompiledPolicy(document, 1)
  const users = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, username: `u${i}`, role: 'member' }))
  const heavy = label !== '3 rules'
  const n = heavy ? 2_000 : 200_000
  results.push(measure(`${label}: ability, cached (1,000 users)`, n * 5, (i) => policy.abilityFor(users[i % 1000]!)))
  results.push(measure(`${label}: ability, rebuilt from rules`, heavy ? 200 : 20_000, (i) => createPrismaAbility(interpolate(document.member!, users[i % 1000]!) as never)))
  results.push(measure(`${label}: cached ability + accessibleBy(Task), uncached`, n, (i) => accessibleBy(policy.abilityFor(users[i % 1000]!), 'read').ofType('Task' as never)))
  results.push(measure(`${label}: cached ability + list filter (as requests do)`, n * 5, (i) => policy.filterFor(policy.abilityFor(users[i % 1000]!), 'read', 'Task')))
  const ability = policy.abilityFor(users[0]!)
  const task = subject('Task', { id: 1, projectId: 1, title: 't', project: { ownerId: 1 } })
  results.push(measure(`${label}: can('update', task)`, n * 5, () => ability.can('update', task as never)))
}

console.log('| operation | per op |\n|---|---|')
for (const r of results) {
  const value = r.nsPerOp >= 1000 ? `${(r.nsPerOp / 1000).toFixed(2)} µs` : `${r.nsPerOp.toFixed(0)} ns`
  console.log(`| ${r.name} | ${value} |`)
}
