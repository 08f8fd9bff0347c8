// Writing outcomes back into decision-table.md, like a snapshot update: only the expect and
// status cells of the rows named change; every other byte of the file (prose, notes, other rows,
// column padding) stays as it was.

export interface OutcomeChange {
  /** 1-based line of the row in the file (DecisionRow.line). */
  line: number
  expect: 'allow' | 'deny'
  status: number
}

/** Replaces a cell's text, keeping its padding where the new text fits in it. */
function replaceCell(cell: string, text: string): string {
  const lead = /^\s*/.exec(cell)![0]
  return `${lead}${text}`.padEnd(cell.length, ' ').replace(/(\S)$/, '$1 ')
}

export function rewriteOutcomes(text: string, changes: OutcomeChange[]): string {
  const lines = text.split('\n')
  const header = lines.find((line) => line.trim().startsWith('|'))
  if (!header) throw new Error('no table found')
  const columns = header
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim().toLowerCase())
  const expectAt = columns.indexOf('expect') + 1
  const statusAt = columns.indexOf('status') + 1
  for (const change of changes) {
    const line = lines[change.line - 1]
    if (line === undefined) throw new Error(`line ${change.line} is not in the file`)
    // Split on the pipes as they are: index 0 is what precedes the first pipe.
    const cells = line.split('|')
    cells[expectAt] = replaceCell(cells[expectAt] ?? '', change.expect)
    cells[statusAt] = replaceCell(cells[statusAt] ?? '', String(change.status))
    lines[change.line - 1] = cells.join('|')
  }
  return lines.join('\n')
}
