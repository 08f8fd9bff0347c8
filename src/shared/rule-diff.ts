// Comparing rule lists by rule id. Dependency-free: the admin API, the CLI, the audit log and the
// admin console's diff views all use it.

/** JSON with keys sorted, so a rule read back from the database (JSONB reorders keys) compares equal. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : 1)))
      : item,
  )
}

export type RuleChange = 'added' | 'removed' | 'changed' | 'same'

export interface RuleComparison<R> {
  id: string
  before?: R
  after?: R
  change: RuleChange
}

/** Every rule id of either list (after's order, then those only before has), with what happened to it. */
export function compareRules<R extends { id: string }>(before: R[], after: R[]): RuleComparison<R>[] {
  const old = new Map(before.map((rule) => [rule.id, rule]))
  const next = new Map(after.map((rule) => [rule.id, rule]))
  const ids = [...next.keys(), ...[...old.keys()].filter((id) => !next.has(id))]
  return ids.map((id) => {
    const a = old.get(id)
    const b = next.get(id)
    const change: RuleChange = !a ? 'added' : !b ? 'removed' : canonical(a) === canonical(b) ? 'same' : 'changed'
    return { id, before: a, after: b, change }
  })
}

/** What changed between two rule lists: ids added, removed and changed. */
export function diffRules(before: Array<{ id: string }>, after: Array<{ id: string }>) {
  const entries = compareRules(before, after)
  const ids = (change: RuleChange) => entries.filter((entry) => entry.change === change).map((entry) => entry.id)
  return { added: ids('added'), removed: ids('removed'), changed: ids('changed') }
}

/** Whether the same rules appear in a different order (CASL gives later rules precedence). */
export function orderChanged(before: Array<{ id: string }>, after: Array<{ id: string }>): boolean {
  const kept = new Set(after.map((rule) => rule.id))
  const beforeOrder = before.map((rule) => rule.id).filter((id) => kept.has(id))
  const common = new Set(beforeOrder)
  const afterOrder = after.map((rule) => rule.id).filter((id) => common.has(id))
  return beforeOrder.join('\n') !== afterOrder.join('\n')
}
