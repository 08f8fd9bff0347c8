import { useEffect, useMemo, useRef, useState } from 'react'
import { canonical, compareRules, type RuleChange } from '../shared/rule-diff.ts'
import { draftChanges, hasChanges, isRuleShaped, restoreRule } from './draft.ts'
import type { PolicyState } from './policy-state.ts'
import { RuleForm } from './RuleForm.tsx'
import type { PolicyRule, Report } from './types.ts'
import { listText, ProblemMessage, useConfirm } from './ui.tsx'

// The draft's rules grouped by role, each readable at a glance, with what changed against the
// active version; edited one at a time in a form, or all at once as JSON.

type Editing = { rule: PolicyRule | null; opener: HTMLElement | null } | null

export function RulesView({ state, highlight }: { state: PolicyState; highlight?: string }) {
  const { active, draft, setDraft, validation, currentReport, discard } = state
  const [editing, setEditing] = useState<Editing>(null)
  const [asJson, setAsJson] = useState(false)
  /** JSON in the editor that does not parse, and so is not in the draft. */
  const [unparsed, setUnparsed] = useState(false)
  const [dialog, confirm] = useConfirm()
  // Once the form is gone, focus goes back where the admin was: the saved rule, or the opener.
  const [focusAfterClose, setFocusAfterClose] = useState<string | HTMLElement | null>(null)
  useEffect(() => {
    if (focusAfterClose === null) return
    const target = typeof focusAfterClose === 'string' ? document.getElementById(focusAfterClose) : focusAfterClose
    if (target?.isConnected) target.focus()
    setFocusAfterClose(null)
  }, [focusAfterClose])

  const loaded = Boolean(draft)
  useEffect(() => {
    if (highlight) document.getElementById(`rule-${highlight}`)?.scrollIntoView({ block: 'center' })
  }, [highlight, loaded])

  const entries = useMemo(() => (active && draft ? compareRules(active.rules, draft.rules) : []), [active, draft])
  if (!active || !draft) return <ProblemMessage error={state.loadError} />

  const changed = hasChanges(draftChanges(active, draft))
  const errors = currentReport?.errors ?? []
  const roles = [...new Set(entries.map((entry) => (entry.after ?? entry.before)!.role))]

  const open = (rule: PolicyRule | null) => setEditing({ rule, opener: document.activeElement as HTMLElement | null })
  function close(savedId?: string) {
    const opener = editing?.opener
    setEditing(null)
    setFocusAfterClose(savedId ? `rule-${savedId}` : (opener ?? null))
  }
  function save(rule: PolicyRule) {
    const replacing = editing?.rule?.id
    // A rule removed (or discarded) while its form was open comes back with the edit, not lost.
    const present = replacing !== undefined && draft!.rules.some((r) => r.id === replacing)
    const rules = present ? draft!.rules.map((r) => (r.id === replacing ? rule : r)) : [...draft!.rules, rule]
    setDraft({ ...draft!, rules })
    close(rule.id)
  }
  const remove = (id: string) => setDraft({ ...draft, rules: draft.rules.filter((rule) => rule.id !== id) })
  const restore = (rule: PolicyRule) => setDraft({ ...draft, rules: restoreRule(draft.rules, rule, active.rules) })

  return (
    <section aria-labelledby="rules-title">
      <header className="view-header">
        <h2 id="rules-title">Rules</h2>
        <DraftStatus state={state} />
        <div className="actions">
          <button type="button" onClick={() => open(null)} disabled={asJson}>
            New rule
          </button>
          <button
            type="button"
            onClick={async () => {
              if (
                asJson &&
                unparsed &&
                !(await confirm('The JSON does not parse, so it is not in the draft. Leave it and lose that text?', 'Leave the JSON'))
              )
                return
              setEditing(null)
              setUnparsed(false)
              setAsJson(!asJson)
            }}
            aria-pressed={asJson}
          >
            {asJson ? 'Edit as forms' : 'Edit as JSON'}
          </button>
          <button
            type="button"
            onClick={async () =>
              (await confirm('Throw away every change in the draft and start again from the active version?', 'Discard draft')) && discard()
            }
            disabled={!changed}
          >
            Discard draft
          </button>
          <a className="button primary" href="#/review">
            Review &amp; activate
          </a>
        </div>
      </header>

      {dialog}
      {validation.error ? <ProblemMessage error={validation.error} title="The draft cannot be checked" /> : null}
      <ErrorList errors={errors.filter((error) => !error.ruleId)} />

      {editing ? (
        <RuleForm
          key={editing.rule?.id ?? 'new rule'}
          rule={editing.rule}
          roles={roles}
          takenIds={draft.rules.map((rule) => rule.id)}
          onSave={save}
          onCancel={() => close()}
        />
      ) : null}

      {asJson ? (
        <JsonEditor
          rules={draft.rules}
          onChange={(rules) => setDraft({ ...draft, rules }, { typing: true })}
          onUnparsed={setUnparsed}
          errors={errors}
        />
      ) : (
        roles.map((role) => (
          <section key={role} className="role" aria-labelledby={`role-${role}`}>
            <h3 id={`role-${role}`}>
              Role <code>{role}</code>
            </h3>
            {entries
              .filter((entry) => (entry.after ?? entry.before)!.role === role)
              .map(({ id, before, after, change }) => (
                <RuleCard
                  key={id}
                  rule={(after ?? before)!}
                  change={change}
                  highlighted={highlight === id}
                  errors={errors.filter((error) => error.ruleId === id)}
                  onEdit={() => open(after!)}
                  onDelete={() => remove(id)}
                  onRestore={() => restore(before!)}
                />
              ))}
          </section>
        ))
      )}
    </section>
  )
}

export function DraftStatus({ state }: { state: PolicyState }) {
  const { active, draft, validation, upToDate } = state
  if (!active || !draft) return null
  const changes = draftChanges(active, draft)
  const report = state.currentReport
  const parts = [
    changes.rules ? `${changes.rules} rule change${changes.rules === 1 ? '' : 's'}` : 'no rule changes',
    changes.order ? 'rule order changed' : null,
    changes.table ? 'decision table edited' : null,
  ].filter(Boolean)
  let check = 'Checking…'
  if (upToDate && validation.error) check = 'Cannot be checked'
  else if (report) {
    check = !report.valid
      ? `${report.errors.length} error${report.errors.length === 1 ? '' : 's'}`
      : report.table && report.table.failed
        ? `${report.table.failed} table row${report.table.failed === 1 ? '' : 's'} fail`
        : 'Valid, table passes'
  }
  return (
    <p className="draft-status">
      Draft based on version <b>{draft.basedOn}</b> (active: {active.version}) · {parts.join(' · ')} ·{' '}
      <span data-testid="check-status">{check}</span>
    </p>
  )
}

export function ErrorList({ errors }: { errors: Report['errors'] }) {
  if (!errors.length) return null
  return (
    <div role="alert">
      <ul className="errors" aria-label="Validation errors">
        {errors.map((error, i) => (
          <li key={i}>
            {error.role ? <b>{error.role}</b> : null} {error.ruleId ? <code>{error.ruleId}</code> : null}{' '}
            {error.path ? <code>{error.path}</code> : null} {error.message}
          </li>
        ))}
      </ul>
    </div>
  )
}

const CHANGE_LABEL: Record<RuleChange, string> = { added: 'new', removed: 'removed', changed: 'changed', same: '' }

function RuleCard({
  rule,
  change,
  highlighted,
  errors,
  onEdit,
  onDelete,
  onRestore,
}: {
  rule: PolicyRule
  change: RuleChange
  highlighted: boolean
  errors: Report['errors']
  onEdit: () => void
  onDelete: () => void
  onRestore: () => void
}) {
  return (
    <article
      id={`rule-${rule.id}`}
      tabIndex={-1}
      className={`rule ${change} ${highlighted ? 'highlighted' : ''} ${errors.length ? 'invalid' : ''}`}
      aria-label={`Rule ${rule.id}`}
    >
      <header>
        <code className="rule-id">{rule.id}</code>
        {rule.inverted ? <span className="badge deny">forbids</span> : <span className="badge allow">allows</span>}
        {change !== 'same' ? <span className={`badge ${change}`}>{CHANGE_LABEL[change]}</span> : null}
      </header>
      <dl>
        <dt>Action</dt>
        <dd>{listText(rule.action)}</dd>
        <dt>Subject</dt>
        <dd>{listText(rule.subject)}</dd>
        {rule.conditions ? (
          <>
            <dt>Conditions</dt>
            <dd>
              <code>{JSON.stringify(rule.conditions)}</code>
            </dd>
          </>
        ) : null}
        {rule.fields ? (
          <>
            <dt>Fields</dt>
            <dd>{listText(rule.fields)}</dd>
          </>
        ) : null}
        {rule.reason ? (
          <>
            <dt>Reason</dt>
            <dd>{listText(rule.reason)}</dd>
          </>
        ) : null}
      </dl>
      <ErrorList errors={errors} />
      <div className="actions">
        {change === 'removed' ? (
          <button type="button" onClick={onRestore} aria-label={`Restore rule ${rule.id}`}>
            Restore
          </button>
        ) : (
          <>
            <button type="button" onClick={onEdit} aria-label={`Edit rule ${rule.id}`}>
              Edit
            </button>
            <button type="button" onClick={onDelete} aria-label={`Remove rule ${rule.id}`}>
              Remove
            </button>
          </>
        )}
      </div>
    </article>
  )
}

/** The whole rule list as JSON; parsed as the admin types, checked by the server once it parses. */
function JsonEditor({
  rules,
  onChange,
  onUnparsed,
  errors,
}: {
  rules: PolicyRule[]
  onChange: (rules: PolicyRule[]) => void
  onUnparsed: (unparsed: boolean) => void
  errors: Report['errors']
}) {
  const [text, setText] = useState(() => JSON.stringify(rules, null, 2))
  const [syntax, setSyntax] = useState<string | null>(null)
  useEffect(() => onUnparsed(syntax !== null), [syntax, onUnparsed])
  const emitted = useRef(rules)
  // Rules changed from elsewhere (discard, re-apply after a conflict): show them.
  useEffect(() => {
    if (rules !== emitted.current && canonical(rules) !== canonical(emitted.current)) {
      setText(JSON.stringify(rules, null, 2))
      setSyntax(null)
    }
    emitted.current = rules
  }, [rules])

  function edit(value: string) {
    setText(value)
    let parsed: unknown
    try {
      parsed = JSON.parse(value)
    } catch (error) {
      setSyntax((error as Error).message)
      return
    }
    if (!Array.isArray(parsed)) {
      setSyntax('The rules must be a JSON array of rule objects.')
      return
    }
    const misshapen = parsed.findIndex((rule) => !isRuleShaped(rule))
    if (misshapen >= 0) {
      setSyntax(`Rule ${misshapen + 1} must be an object with a string "id" and "role".`)
      return
    }
    setSyntax(null)
    emitted.current = parsed as PolicyRule[]
    onChange(parsed as PolicyRule[])
  }
  return (
    <div className="json-editor">
      <label htmlFor="rules-json">All rules as JSON (each with its role)</label>
      <textarea
        id="rules-json"
        spellCheck={false}
        rows={24}
        value={text}
        onChange={(e) => edit(e.target.value)}
        aria-invalid={Boolean(syntax || errors.length)}
        aria-describedby="rules-json-problems"
      />
      <div id="rules-json-problems">
        {syntax ? (
          <p className="problem" role="alert">
            JSON: {syntax}
          </p>
        ) : (
          <ErrorList errors={errors} />
        )}
      </div>
    </div>
  )
}
