import { useState, type FormEvent } from 'react'
import type { AUDIT_KINDS } from '../shared/vocabulary.ts'
import { api, query } from './api.ts'
import { SUBJECT_SUGGESTIONS } from './RuleForm.tsx'
import type { AuditEvent, Page } from './types.ts'
import { Pager, ProblemMessage, TableHead, time, useLoad } from './ui.tsx'

// Policy changes and denied requests, newest first, filtered on the server.

const PAGE = 25
const KIND_LABELS: Record<(typeof AUDIT_KINDS)[number], string> = {
  'policy.activate': 'Policy activations',
  'policy.rollback': 'Rollbacks',
  'request.denied': 'Denied requests',
}
const KINDS: Record<string, string> = { '': 'Everything', ...KIND_LABELS }

interface Filters {
  kind: string
  userId: string
  subject: string
  ruleId: string
  from: string
  to: string
}
const NO_FILTERS: Filters = { kind: '', userId: '', subject: '', ruleId: '', from: '', to: '' }
/** datetime-local has no zone: it is the admin's local time. */
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined)

export function AuditView() {
  const [form, setForm] = useState<Filters>(NO_FILTERS)
  const [filters, setFilters] = useState<Filters>(NO_FILTERS)
  const [offset, setOffset] = useState(0)
  const events = useLoad(
    () =>
      api.get<Page<AuditEvent>>(
        `/api/admin/audit${query({ limit: PAGE, offset, kind: filters.kind, userId: filters.userId, subject: filters.subject, ruleId: filters.ruleId, from: iso(filters.from), to: iso(filters.to) })}`,
      ),
    [filters, offset],
  )
  const field = (name: keyof Filters) => ({
    name,
    value: form[name],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value }),
  })

  function apply(event: FormEvent) {
    event.preventDefault()
    setOffset(0)
    setFilters(form)
  }

  return (
    <section aria-labelledby="audit-title">
      <header className="view-header">
        <h2 id="audit-title">Audit log</h2>
        <button type="button" onClick={events.reload}>
          Refresh
        </button>
      </header>
      <form className="filters card" onSubmit={apply} aria-label="Audit filters">
        <label>
          Kind
          <select {...field('kind')}>
            {Object.entries(KINDS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          User id
          <input type="number" min={1} {...field('userId')} />
        </label>
        <label>
          Subject
          <input list="audit-subjects" {...field('subject')} />
          <datalist id="audit-subjects">
            {SUBJECT_SUGGESTIONS.filter((name) => name !== 'all').map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </label>
        <label>
          Rule id
          <input {...field('ruleId')} />
        </label>
        <label>
          From
          <input type="datetime-local" {...field('from')} />
        </label>
        <label>
          To
          <input type="datetime-local" {...field('to')} />
        </label>
        <div className="actions">
          <button type="submit" className="primary">
            Apply filters
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(NO_FILTERS)
              setFilters(NO_FILTERS)
              setOffset(0)
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <ProblemMessage error={events.error} />
      {events.data ? (
        <>
          <div className="scroll">
            <table className="audit">
              <TableHead columns={['When', 'What', 'Who', 'Details']} />
              <tbody>
                {events.data.items.length === 0 ? (
                  <tr>
                    <td colSpan={4} className="muted">
                      No events match.
                    </td>
                  </tr>
                ) : null}
                {events.data.items.map((event) => (
                  <tr key={event.id} className={event.kind.replace('.', '-')}>
                    <td>
                      <time dateTime={event.createdAt}>{time(event.createdAt)}</time>
                    </td>
                    <td>{KINDS[event.kind] ?? event.kind}</td>
                    <td>{event.username ? `${event.username} (#${event.userId})` : <span className="muted">—</span>}</td>
                    <td>
                      <EventDetail event={event} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={events.data} onOffset={setOffset} label="Audit events" />
        </>
      ) : null}
    </section>
  )
}

interface PolicyDetail {
  basedOn?: number
  message?: string
  rules?: { added: string[]; removed: string[]; changed: string[] }
  flips?: number
}

function EventDetail({ event }: { event: AuditEvent }) {
  if (event.kind === 'request.denied') {
    return (
      <span>
        {event.action} {event.subject}
        {event.objectId ? ` #${event.objectId}` : ''} → {event.status}
        {event.ruleId ? (
          <>
            {' '}
            by <code>{event.ruleId}</code>
          </>
        ) : null}{' '}
        <small className="muted">(policy v{event.policyVersion})</small>
      </span>
    )
  }
  const detail = (event.detail ?? {}) as PolicyDetail
  const ids = (label: string, list?: string[]) => (list?.length ? `${label} ${list.join(', ')}` : null)
  return (
    <span>
      Version {event.policyVersion}
      {detail.basedOn ? ` (from ${detail.basedOn})` : ''}
      {detail.message ? `: “${detail.message}”` : ''}{' '}
      <small className="muted">
        {[
          ids('added', detail.rules?.added),
          ids('changed', detail.rules?.changed),
          ids('removed', detail.rules?.removed),
          detail.flips !== undefined ? `${detail.flips} table row(s) flipped` : null,
        ]
          .filter(Boolean)
          .join(' · ')}
      </small>
    </span>
  )
}
