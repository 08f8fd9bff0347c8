import { useEffect, useState } from 'react'
import { api, query } from './api.ts'
import { canonical, compareRules } from '../shared/rule-diff.ts'
import { draftChanges, draftFrom, hasChanges } from './draft.ts'
import type { PolicyState } from './policy-state.ts'
import type { Page, TableRow, Version, VersionWithRules } from './types.ts'
import { Notice, Pager, ProblemMessage, TableHead, time, useConfirm, useLoad } from './ui.tsx'

// Every version ever activated (never edited; a rollback is a new version), two of them side by
// side, and rollback to any of them.

const PAGE = 20

export function HistoryView({ state }: { state: PolicyState }) {
  const { active } = state
  const [offset, setOffset] = useState(0)
  const versions = useLoad(
    () => api.get<Page<Version>>(`/api/admin/policies/versions${query({ limit: PAGE, offset })}`),
    [offset, active?.version],
  )
  const [left, setLeft] = useState<number | null>(null)
  const [right, setRight] = useState<number | null>(null)
  const [dialog, confirm] = useConfirm()
  const [outcome, setOutcome] = useState<{ done?: string; error?: unknown } | null>(null)

  const activeVersion = active?.version
  useEffect(() => {
    if (activeVersion === undefined) return
    setRight(activeVersion)
    setLeft(Math.max(1, activeVersion - 1))
  }, [activeVersion])

  async function rollback(version: Version) {
    if (
      !(await confirm(
        `Activate the rules and table of version ${version.version} again, as version ${active!.version + 1}?`,
        `Roll back to ${version.version}`,
      ))
    )
      return
    try {
      const untouched = state.draft && active && !hasChanges(draftChanges(active, state.draft))
      const next = await api.post<{ version: number; rules: VersionWithRules['rules']; table: TableRow[] }>(
        '/api/admin/policies/rollback',
        { version: version.version },
      )
      const latest = await state.reload()
      if (untouched) state.setDraft(draftFrom(latest))
      setOutcome({ done: `Rolled back: version ${next.version} has the rules of version ${version.version}.` })
    } catch (error) {
      setOutcome({ error })
    }
  }

  return (
    <section aria-labelledby="history-title">
      <header className="view-header">
        <h2 id="history-title">History</h2>
      </header>
      {dialog}
      {outcome?.done ? <Notice kind="success">{outcome.done}</Notice> : null}
      <ProblemMessage error={outcome?.error} title="Rollback refused" />
      <ProblemMessage error={versions.error} />
      {versions.data ? (
        <>
          <div className="scroll">
            <table className="versions">
              <TableHead columns={['Version', 'Author', 'When', 'Message', { hidden: 'Actions' }]} />
              <tbody>
                {versions.data.items.map((version) => (
                  <tr key={version.version} data-version={version.version}>
                    <td>
                      {version.version} {version.version === active?.version ? <span className="badge allow">active</span> : null}
                    </td>
                    <td>{version.author}</td>
                    <td>
                      <time dateTime={version.createdAt}>{time(version.createdAt)}</time>
                    </td>
                    <td>{version.message || <span className="muted">—</span>}</td>
                    <td>
                      <div className="actions">
                        <button
                          type="button"
                          onClick={() => setLeft(version.version)}
                          aria-label={`Compare from version ${version.version}`}
                          aria-pressed={left === version.version}
                        >
                          Compare from
                        </button>
                        <button
                          type="button"
                          onClick={() => setRight(version.version)}
                          aria-label={`Compare to version ${version.version}`}
                          aria-pressed={right === version.version}
                        >
                          Compare to
                        </button>
                        {version.version !== active?.version ? (
                          <button
                            type="button"
                            className="danger"
                            onClick={() => rollback(version)}
                            aria-label={`Roll back to version ${version.version}`}
                          >
                            Roll back
                          </button>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={versions.data} onOffset={setOffset} label="Versions" />
        </>
      ) : null}
      {left && right ? (
        <VersionDiff
          left={left}
          right={right}
          onPick={(l, r) => {
            setLeft(l)
            setRight(r)
          }}
          latest={active?.version ?? right}
        />
      ) : null}
    </section>
  )
}

function VersionDiff({
  left,
  right,
  latest,
  onPick,
}: {
  left: number
  right: number
  latest: number
  onPick: (left: number, right: number) => void
}) {
  const [onlyChanges, setOnlyChanges] = useState(true)
  const pair = useLoad(
    () =>
      Promise.all([
        api.get<VersionWithRules>(`/api/admin/policies/versions/${left}`),
        api.get<VersionWithRules>(`/api/admin/policies/versions/${right}`),
      ]),
    [left, right],
  )
  const numbers = Array.from({ length: latest }, (_, i) => latest - i)
  const picker = (label: string, value: number, pick: (v: number) => void) => (
    <label>
      {label}
      <select value={value} onChange={(e) => pick(Number(e.target.value))}>
        {numbers.map((n) => (
          <option key={n} value={n}>
            version {n}
          </option>
        ))}
      </select>
    </label>
  )
  const rows = pair.data ? compareRules(pair.data[0].rules, pair.data[1].rules) : []
  const shown = onlyChanges ? rows.filter((row) => row.change !== 'same') : rows
  const tableChanges = pair.data ? tableDiff(pair.data[0].table, pair.data[1].table) : []

  return (
    <section className="diff" aria-labelledby="diff-title">
      <h3 id="diff-title">
        Version {left} ↔ version {right}
      </h3>
      <div className="filters">
        {picker('From', left, (v) => onPick(v, right))}
        {picker('To', right, (v) => onPick(left, v))}
        <label className="inline">
          <input type="checkbox" checked={onlyChanges} onChange={(e) => setOnlyChanges(e.target.checked)} /> Only rules that differ
        </label>
      </div>
      <ProblemMessage error={pair.error} />
      {pair.data ? (
        <>
          <div className="scroll">
            <table className="side-by-side">
              <TableHead columns={['Rule', `Version ${left}`, `Version ${right}`]} />
              <tbody>
                {shown.length === 0 ? (
                  <tr>
                    <td colSpan={3} className="muted">
                      The rules are the same.
                    </td>
                  </tr>
                ) : null}
                {shown.map((row) => (
                  <tr key={row.id} className={row.change} data-rule={row.id}>
                    <th scope="row">
                      <code>{row.id}</code> <span className={`badge ${row.change}`}>{row.change}</span>
                    </th>
                    <td>
                      {row.before ? <Lines value={row.before} other={row.after} kind="removed" /> : <span className="muted">absent</span>}
                    </td>
                    <td>
                      {row.after ? <Lines value={row.after} other={row.before} kind="added" /> : <span className="muted">absent</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p>
            Decision table:{' '}
            {tableChanges.length === 0
              ? 'the same.'
              : `${tableChanges.length} row${tableChanges.length === 1 ? '' : 's'} differ (${tableChanges.map((c) => c.row).join(', ')}).`}
          </p>
        </>
      ) : null}
    </section>
  )
}

/** A rule as JSON lines, marking the lines the other side does not have. */
function Lines({ value, other, kind }: { value: unknown; other: unknown; kind: 'added' | 'removed' }) {
  const theirs = new Set(other ? JSON.stringify(other, null, 2).split('\n') : [])
  return (
    <pre>
      {JSON.stringify(value, null, 2)
        .split('\n')
        .map((line, i) => (
          <span key={i} className={theirs.has(line) ? undefined : kind}>
            {/* A diff's + and − say it without colour. */}
            {theirs.has(line) ? '  ' : kind === 'added' ? '+ ' : '− '}
            {line}
            {'\n'}
          </span>
        ))}
    </pre>
  )
}

function tableDiff(before: TableRow[], after: TableRow[]) {
  const length = Math.max(before.length, after.length)
  return Array.from({ length }, (_, i) => ({ row: i + 1, before: before[i], after: after[i] })).filter(
    (pair) => canonical(pair.before) !== canonical(pair.after),
  )
}
