import type { ActivePolicy, PolicyRule, TableResult, TableRow } from './types.ts'

// The admin's unsaved change: rules and decision table edited in the console, and the version
// they were based on (sent as If-Match on activation). Kept in sessionStorage so a reload does
// not lose work.

export interface Draft {
  basedOn: number
  rules: PolicyRule[]
  table: TableRow[]
}

const DRAFT_KEY = 'policy-console.draft'

export function draftFrom(policy: ActivePolicy): Draft {
  return { basedOn: policy.version, rules: policy.rules, table: policy.table }
}

export function loadDraft(): Draft | null {
  try {
    const saved = sessionStorage.getItem(DRAFT_KEY)
    return saved ? (JSON.parse(saved) as Draft) : null
  } catch {
    return null
  }
}

export function saveDraft(draft: Draft | null): void {
  if (draft) sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft))
  else sessionStorage.removeItem(DRAFT_KEY)
}

/** JSON with sorted keys, so two equal rules compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))) : item,
  )
}

export type RuleChange = 'added' | 'removed' | 'changed' | 'same'

/** Every rule id of either list, in order (after's order, then what only before has), with its change. */
export function compareRules(before: PolicyRule[], after: PolicyRule[]): Array<{ id: string; before?: PolicyRule; after?: PolicyRule; change: RuleChange }> {
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

export function draftChanges(active: ActivePolicy, draft: Draft): { rules: number; table: boolean } {
  return {
    rules: compareRules(active.rules, draft.rules).filter((entry) => entry.change !== 'same').length,
    table: canonical(active.table) !== canonical(draft.table),
  }
}

/**
 * Re-applies the draft's edits (relative to the version it was based on) onto a newer version:
 * the rules the admin added, changed or removed, by id; the table if the admin edited it.
 */
export function rebase(base: ActivePolicy, draft: Draft, latest: ActivePolicy): Draft {
  let rules = [...latest.rules]
  for (const { id, after, change } of compareRules(base.rules, draft.rules)) {
    if (change === 'same') continue
    const at = rules.findIndex((rule) => rule.id === id)
    if (change === 'removed') {
      if (at >= 0) rules.splice(at, 1)
    } else if (at >= 0) rules[at] = after!
    else rules = [...rules, after!]
  }
  const tableEdited = canonical(base.table) !== canonical(draft.table)
  return { basedOn: latest.version, rules, table: tableEdited ? draft.table : latest.table }
}

/** The draft table with the given rows' expectations replaced by what the draft rules decide. */
export function acceptOutcomes(table: TableRow[], results: TableResult[]): TableRow[] {
  const byRow = new Map(results.map((result) => [result.row, result]))
  return table.map((row, index) => {
    const result = byRow.get(index + 1)
    return result ? { ...row, expect: result.allowed ? 'allow' : 'deny', status: result.got } : row
  })
}
