import { canonical, compareRules, orderChanged } from '../shared/rule-diff.ts'
import type { ActivePolicy, PolicyRule, TableResult, TableRow } from './types.ts'

// The admin's unsaved change: rules and decision table edited in the console, and the version
// they were based on (sent as If-Match on activation). Kept in this tab's sessionStorage under
// the admin's id, so a reload keeps it and another account signing in here never inherits it.

export interface Draft {
  basedOn: number
  rules: PolicyRule[]
  table: TableRow[]
}

const draftKey = (accountId: number) => `policy-console.draft.${accountId}`

export function draftFrom(policy: ActivePolicy): Draft {
  return { basedOn: policy.version, rules: policy.rules, table: policy.table }
}

/** Enough of a rule's shape for the console to show it; everything else is the API's to judge. */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function isRuleShaped(value: unknown): value is PolicyRule {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false
  const rule = value as Record<string, unknown>
  return typeof rule.id === 'string' && typeof rule.role === 'string'
}

export function loadDraft(accountId: number): Draft | null {
  try {
    const saved = JSON.parse(sessionStorage.getItem(draftKey(accountId)) ?? 'null') as Partial<Draft> | null
    if (
      !saved ||
      typeof saved.basedOn !== 'number' ||
      !Array.isArray(saved.rules) ||
      !saved.rules.every(isRuleShaped) ||
      !Array.isArray(saved.table)
    )
      return null
    if (!(saved.table as unknown[]).every((row) => isObject(row) && typeof row.role === 'string')) return null
    return saved as Draft
  } catch {
    return null
  }
}

export function saveDraft(accountId: number, draft: Draft | null): void {
  if (draft) sessionStorage.setItem(draftKey(accountId), JSON.stringify(draft))
  else sessionStorage.removeItem(draftKey(accountId))
}

export function draftChanges(active: ActivePolicy, draft: Draft): { rules: number; order: boolean; table: boolean } {
  return {
    rules: compareRules(active.rules, draft.rules).filter((entry) => entry.change !== 'same').length,
    order: orderChanged(active.rules, draft.rules),
    table: canonical(active.table) !== canonical(draft.table),
  }
}

export const hasChanges = (changes: ReturnType<typeof draftChanges>) => changes.rules > 0 || changes.order || changes.table

export interface Rebased {
  draft: Draft
  /** What the newer version also changed, where the draft's edit was kept over it. */
  overridden: string[]
}

/**
 * Re-applies the draft's edits (relative to the version it was based on) onto a newer version:
 * the rules the admin added, changed or removed, by id; the table if the admin edited it. Where
 * the newer version changed the same rule or the table too, the admin's edit wins and is listed
 * in `overridden`, for the admin to look at before activating.
 */
export function rebase(base: ActivePolicy, draft: Draft, latest: ActivePolicy): Rebased {
  const theirs = new Map(compareRules(base.rules, latest.rules).map((entry) => [entry.id, entry.change]))
  const overridden: string[] = []
  let rules = [...latest.rules]
  for (const { id, after, change } of compareRules(base.rules, draft.rules)) {
    if (change === 'same') continue
    const other = theirs.get(id)
    if (other && other !== 'same')
      overridden.push(`rule ${id} (version ${latest.version} ${other === 'removed' ? 'removed' : 'changed'} it too)`)
    const at = rules.findIndex((rule) => rule.id === id)
    if (change === 'removed') {
      if (at >= 0) rules.splice(at, 1)
    } else if (at >= 0) rules[at] = after!
    else {
      // Back where it stood in the draft: after the rule that precedes it there, else last (CASL
      // gives later rules precedence, so a rule never silently loses it).
      const draftIndex = draft.rules.findIndex((rule) => rule.id === id)
      const previous = draft.rules[draftIndex - 1]?.id
      const previousAt = previous === undefined ? -1 : rules.findIndex((rule) => rule.id === previous)
      const insertAt = draftIndex === 0 ? 0 : previousAt >= 0 ? previousAt + 1 : rules.length
      rules = [...rules.slice(0, insertAt), after!, ...rules.slice(insertAt)]
    }
  }
  if (orderChanged(base.rules, draft.rules)) {
    // The draft reordered rules: its order wins; rules only the newer version has keep their place after their predecessor.
    const byId = new Map(rules.map((rule) => [rule.id, rule]))
    const ordered = draft.rules.filter((rule) => byId.has(rule.id)).map((rule) => byId.get(rule.id)!)
    const placed = new Set(ordered.map((rule) => rule.id))
    rules.forEach((rule, i) => {
      if (placed.has(rule.id)) return
      const before = rules[i - 1]?.id
      ordered.splice(before === undefined ? 0 : ordered.findIndex((r) => r.id === before) + 1, 0, rule)
      placed.add(rule.id)
    })
    if (orderChanged(base.rules, latest.rules)) overridden.push(`the order of rules (version ${latest.version} reordered them too)`)
    rules = ordered
  }
  const tableEdited = canonical(base.table) !== canonical(draft.table)
  if (tableEdited && canonical(base.table) !== canonical(latest.table))
    overridden.push(`the decision table (version ${latest.version} changed it too)`)
  return { draft: { basedOn: latest.version, rules, table: tableEdited ? draft.table : latest.table }, overridden }
}

/** The draft table with the given rows' expectations replaced by what the draft rules decide. */
export function acceptOutcomes(table: TableRow[], results: TableResult[]): TableRow[] {
  const byRow = new Map(results.map((result) => [result.row, result]))
  return table.map((row, index) => {
    const result = byRow.get(index + 1)
    return result ? { ...row, expect: result.allowed ? 'allow' : 'deny', status: result.got } : row
  })
}

/** A removed rule put back where it stood in `original`. */
export function restoreRule(rules: PolicyRule[], rule: PolicyRule, original: PolicyRule[]): PolicyRule[] {
  const position = original.findIndex((r) => r.id === rule.id)
  const before = new Set(original.slice(0, position).map((r) => r.id))
  let insertAt = 0
  rules.forEach((r, i) => {
    if (before.has(r.id)) insertAt = i + 1
  })
  return [...rules.slice(0, insertAt), rule, ...rules.slice(insertAt)]
}
