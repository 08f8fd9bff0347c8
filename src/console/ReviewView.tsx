import { useEffect, useState, type FormEvent } from 'react'
import { ApiError } from './api.ts'
import { acceptOutcomes, draftChanges, hasChanges } from './draft.ts'
import type { PolicyState } from './policy-state.ts'
import { DraftStatus, ErrorList } from './RulesView.tsx'
import type { Flip, Report, RoleImpact, TableResult } from './types.ts'
import { Notice, ProblemMessage, ROW_COLUMNS, TableHead } from './ui.tsx'

// Before a draft goes live: its errors, the decision-table rows whose outcome it flips, what it
// would change on live data, and the activation itself (If-Match on the version it is based on).

export function ReviewView({ state }: { state: PolicyState }) {
  const { active, draft, setDraft, validation, currentReport } = state
  const [message, setMessage] = useState('')
  const [outcome, setOutcome] = useState<{ activated?: number; error?: unknown; overridden?: string[] } | null>(null)
  const [busy, setBusy] = useState(false)
  // A refusal is about the draft that was sent: once the draft changes, it no longer applies.
  useEffect(
    () =>
      setOutcome((previous) =>
        previous?.error && !(previous.error instanceof ApiError && previous.error.status === 409) ? null : previous,
      ),
    [draft],
  )
  if (!active || !draft) return <ProblemMessage error={state.loadError} />

  const report = currentReport
  const changed = hasChanges(draftChanges(active, draft))
  const failing = currentReport?.table?.rows.filter((row) => !row.pass) ?? []
  const conflict = outcome?.error instanceof ApiError && outcome.error.status === 409
  // Failing rows and lockouts are left for the API to refuse (422), so its answer is what the admin sees.
  const blocked = !currentReport || !currentReport.valid || !changed

  async function activate(event: FormEvent) {
    event.preventDefault()
    setBusy(true)
    try {
      const next = await state.activate(message)
      setOutcome({ activated: next?.version })
      setMessage('')
    } catch (error) {
      setOutcome({ error })
      // Show which version is active now; the draft stays as it is until the admin re-applies it.
      if (error instanceof ApiError && error.status === 409) state.reload().catch(() => {})
    } finally {
      setBusy(false)
    }
  }

  async function reapply() {
    setBusy(true)
    try {
      setOutcome({ overridden: await state.reapplyOnLatest() })
    } catch (error) {
      setOutcome({ error })
    } finally {
      setBusy(false)
    }
  }

  return (
    <section aria-labelledby="review-title">
      <header className="view-header">
        <h2 id="review-title">Review &amp; activate</h2>
        <DraftStatus state={state} />
      </header>

      {outcome?.activated ? <Notice kind="success">Version {outcome.activated} is active on every instance.</Notice> : null}
      {outcome?.overridden ? (
        <Notice kind={outcome.overridden.length ? 'warning' : 'info'}>
          Your edits were applied again on version {draft.basedOn}.
          {outcome.overridden.length ? (
            <>
              {' '}
              Your edit was kept over the other change to:
              <ul aria-label="Edits kept over another change">
                {outcome.overridden.map((item) => (
                  <li key={item}>{item}</li>
                ))}
              </ul>
              Check them before activating.
            </>
          ) : null}
        </Notice>
      ) : null}
      {validation.error && state.upToDate ? <ProblemMessage error={validation.error} title="The draft cannot be checked" /> : null}
      {report ? (
        <>
          <ErrorList errors={report.errors} />
          <RuleChanges report={report} />
          {report.lockout ? (
            <div className="problem" role="alert">
              <strong>This change would lock administrators out</strong>
              <p>{report.lockout}</p>
            </div>
          ) : null}
          <Flips flips={report.flips} />
          <Impact impact={report.impact} />
          {failing.length ? (
            <div className="notice warning" role="status">
              <p>
                {failing.length} decision-table row{failing.length === 1 ? '' : 's'} still expect the old outcome. If the change is
                intended, make the table say so.
              </p>
              <button type="button" onClick={() => setDraft({ ...draft, table: acceptOutcomes(draft.table, failing) })}>
                Accept the new outcome{failing.length === 1 ? '' : 's'} into the draft table
              </button>
            </div>
          ) : null}
          <TableResults rows={report.table?.rows ?? []} flips={report.flips} />
        </>
      ) : validation.error && state.upToDate ? null : (
        <p>Checking the draft…</p>
      )}

      <form className="card activate" onSubmit={activate} aria-labelledby="activate-title">
        <h3 id="activate-title">Activate</h3>
        <label>
          Change message
          <input
            name="message"
            maxLength={500}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
            placeholder="What changes and why"
          />
        </label>
        <button type="submit" className="primary" disabled={blocked || busy}>
          Activate as version {active.version + 1}
        </button>
        {!changed ? <p className="muted">The draft is the same as the active version.</p> : null}
        {conflict ? (
          <div className="problem" role="alert">
            <strong>The policy changed meanwhile</strong>
            <p>{(outcome.error as ApiError).problem.detail}</p>
            <button type="button" onClick={reapply} disabled={busy}>
              Reload the latest version and re-apply my edit
            </button>
          </div>
        ) : outcome?.error ? (
          <>
            <ProblemMessage error={outcome.error} title="Not activated" />
            {outcome.error instanceof ApiError && outcome.error.problem.failures ? (
              <TableResults rows={outcome.error.problem.failures} flips={[]} caption="Failing rows" open />
            ) : null}
          </>
        ) : null}
      </form>
    </section>
  )
}

function RuleChanges({ report }: { report: Report }) {
  const { added, removed, changed } = report.rules
  if (!added.length && !removed.length && !changed.length) return null
  const item = (label: string, ids: string[]) =>
    ids.length ? (
      <li>
        {label}:{' '}
        {ids.map((id) => (
          <a key={id} href={`#/rules/${encodeURIComponent(id)}`}>
            <code>{id}</code>{' '}
          </a>
        ))}
      </li>
    ) : null
  return (
    <ul className="rule-changes" aria-label="Rule changes">
      {item('Added', added)}
      {item('Changed', changed)}
      {item('Removed', removed)}
    </ul>
  )
}

const outcomeText = (o: { allowed: boolean; status: number }) => `${o.allowed ? 'allow' : 'deny'} ${o.status}`

function Flips({ flips }: { flips: Flip[] }) {
  return (
    <section aria-labelledby="flips-title">
      <h3 id="flips-title">Decisions that change ({flips.length})</h3>
      {flips.length === 0 ? (
        <p className="muted">No row of the decision table changes its outcome.</p>
      ) : (
        <div className="scroll">
          <table className="flips">
            <TableHead columns={[...ROW_COLUMNS, 'Before', 'After']} />
            <tbody>
              {flips.map((flip) => (
                <tr key={flip.row} className="flipped">
                  <td>{flip.row}</td>
                  <td>{flip.role}</td>
                  <td>{flip.action}</td>
                  <td>{flip.subject}</td>
                  <td>{flip.resource}</td>
                  <td className={flip.before.allowed ? 'allow' : 'deny'}>{outcomeText(flip.before)}</td>
                  <td className={flip.after.allowed ? 'allow' : 'deny'}>{outcomeText(flip.after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}

function Change({ change, what }: { change: RoleImpact['Project']['visible']; what: string }) {
  if (!change.gained && !change.lost) return <span className="muted">—</span>
  return (
    <span>
      {change.gained ? (
        <span className="gained" title={`examples: ${change.gainedExamples.join(', ')}`}>
          +{change.gained} {what}
          {change.gainedExamples.length ? <small> (e.g. #{change.gainedExamples.join(', #')})</small> : null}
        </span>
      ) : null}
      {change.gained && change.lost ? ' ' : null}
      {change.lost ? (
        <span className="lost">
          −{change.lost} {what}
          {change.lostExamples.length ? <small> (e.g. #{change.lostExamples.join(', #')})</small> : null}
        </span>
      ) : null}
    </span>
  )
}

const IMPACT_COLUMNS = [
  ['Project', 'visible', 'Projects visible'],
  ['Project', 'writable', 'Projects writable'],
  ['Task', 'visible', 'Tasks visible'],
  ['Task', 'writable', 'Tasks writable'],
] as const

function Impact({ impact }: { impact: Report['impact'] }) {
  if (!impact) return null
  return (
    <section aria-labelledby="impact-title">
      <h3 id="impact-title">Impact on live data</h3>
      <p className="muted">
        Rows of the database that each role would newly see (+) or no longer see (−), and newly or no longer be able to change.
      </p>
      <div className="scroll">
        <table className="impact">
          <TableHead columns={['Role', ...IMPACT_COLUMNS.map(([, , label]) => label)]} />
          <tbody>
            {impact.map((row) => (
              <tr key={row.role} data-role={row.role}>
                <th scope="row">
                  {row.role}
                  <small className="muted">
                    {row.scope === 'per-user'
                      ? ` (summed over ${row.usersConsidered} of ${row.usersWithRole} users)`
                      : ` (${row.usersWithRole} user${row.usersWithRole === 1 ? '' : 's'})`}
                  </small>
                </th>
                {IMPACT_COLUMNS.map(([subject, kind, label]) => (
                  <td key={label}>
                    <Change change={row[subject][kind]} what={subject === 'Project' ? 'projects' : 'tasks'} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  )
}

export function TableResults({
  rows,
  flips,
  caption = 'Decision table',
  open = false,
}: {
  rows: TableResult[]
  flips: Flip[]
  caption?: string
  open?: boolean
}) {
  const flipped = new Set(flips.map((flip) => flip.row))
  const failed = rows.filter((row) => !row.pass).length
  return (
    <details className="table-results" open={open || failed > 0}>
      <summary>
        {caption}: {rows.length - failed} of {rows.length} rows pass{flipped.size ? `, ${flipped.size} flipped` : ''}
      </summary>
      <div className="scroll">
        <table>
          <TableHead columns={[...ROW_COLUMNS, 'Expected', 'Got', 'Rule']} />
          <tbody>
            {rows.map((row) => (
              <tr key={row.row} className={`${row.pass ? 'pass' : 'fail'} ${flipped.has(row.row) ? 'flipped' : ''}`}>
                <td>
                  {row.row}
                  {flipped.has(row.row) ? <span className="badge changed">flips</span> : null}
                </td>
                <td>{row.role}</td>
                <td>{row.action}</td>
                <td>{row.subject}</td>
                <td>{row.resource}</td>
                <td>
                  {row.expect} {row.status}
                </td>
                <td className={row.pass ? 'allow' : 'deny'}>
                  {row.allowed ? 'allow' : 'deny'} {row.got} {row.pass ? '✓' : '✗'}
                </td>
                <td>{row.ruleId ? <a href={`#/rules/${encodeURIComponent(row.ruleId)}`}>{row.ruleId}</a> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  )
}
