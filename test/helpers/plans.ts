// Rows a statement visits, read from `EXPLAIN (ANALYZE, FORMAT JSON)`: what a plan costs on the
// data it ran on, not what the planner guessed. Used by tests and the benchmark's plan check.

export interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Rows Removed by Filter'?: number
  'Rows Removed by Index Recheck'?: number
  Plans?: PlanNode[]
}

/**
 * Rows read per table by the plan's scans: returned plus filtered out, over every loop. Bitmap
 * index scans are left out: the heap scan above them reads the same rows.
 */
export function visitedRows(node: PlanNode, into = new Map<string, number>()): Map<string, number> {
  const table = node['Relation Name']
  if (table && node['Node Type'] !== 'Bitmap Index Scan') {
    const perLoop = (node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)
    into.set(table, (into.get(table) ?? 0) + perLoop * (node['Actual Loops'] ?? 1))
  }
  for (const child of node.Plans ?? []) visitedRows(child, into)
  return into
}
