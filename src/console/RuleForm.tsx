import { useEffect, useRef, useState, type FormEvent } from 'react'
import { ROLES } from '../authz/roles.ts'
import { ACTIONS, TABLE_SUBJECTS } from '../authz/vocabulary.ts'
import type { PolicyRule } from './types.ts'

// One rule as a form. Conditions are CASL/Prisma conditions typed as JSON; everything else has
// its own control. What the form cannot know (fields of a subject, operators) the validate
// endpoint checks as soon as the rule is saved into the draft.

const SUBJECT_SUGGESTIONS = [...TABLE_SUBJECTS, 'PolicyVersion', 'AuditEvent', 'all']
const list = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value])
const oneOrMany = (values: string[]) => (values.length === 1 ? values[0]! : values)

export function RuleForm({ rule, roles, takenIds, onSave, onCancel }: { rule: PolicyRule | null; roles: string[]; takenIds: string[]; onSave: (rule: PolicyRule) => void; onCancel: () => void }) {
  const [id, setId] = useState(rule?.id ?? '')
  const [role, setRole] = useState(rule?.role ?? 'member')
  const [actions, setActions] = useState<string[]>(list(rule?.action))
  const [subjects, setSubjects] = useState(list(rule?.subject).join(', '))
  const [conditions, setConditions] = useState(rule?.conditions ? JSON.stringify(rule.conditions, null, 2) : '')
  const [fields, setFields] = useState(list(rule?.fields).join(', '))
  const [inverted, setInverted] = useState(rule?.inverted ?? false)
  const [reason, setReason] = useState(rule?.reason ?? '')
  const [problem, setProblem] = useState<string | null>(null)
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => heading.current?.focus(), [])

  function submit(event: FormEvent) {
    event.preventDefault()
    const subjectList = subjects.split(',').map((s) => s.trim()).filter(Boolean)
    const fieldList = fields.split(',').map((s) => s.trim()).filter(Boolean)
    if (!actions.length) return setProblem('Choose at least one action.')
    if (!subjectList.length) return setProblem('Name at least one subject.')
    if (id !== rule?.id && takenIds.includes(id)) return setProblem(`Another rule already has the id "${id}".`)
    let parsed: Record<string, unknown> | undefined
    if (conditions.trim()) {
      try {
        parsed = JSON.parse(conditions) as Record<string, unknown>
      } catch (error) {
        return setProblem(`Conditions are not valid JSON: ${(error as Error).message}`)
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return setProblem('Conditions must be a JSON object, such as {"ownerId": "${user.id}"}.')
    }
    onSave({
      id,
      role,
      action: oneOrMany(actions),
      subject: oneOrMany(subjectList),
      ...(parsed ? { conditions: parsed } : {}),
      ...(fieldList.length ? { fields: oneOrMany(fieldList) } : {}),
      ...(inverted ? { inverted: true } : {}),
      ...(reason.trim() ? { reason: reason.trim() } : {}),
    })
  }

  const toggle = (action: string) => setActions((current) => (current.includes(action) ? current.filter((a) => a !== action) : [...current, action]))

  return (
    <form className="card rule-form" onSubmit={submit} aria-labelledby="rule-form-title">
      <h3 id="rule-form-title" tabIndex={-1} ref={heading}>
        {rule ? `Edit rule ${rule.id}` : 'New rule'}
      </h3>
      <div className="grid-2">
        <label>
          Rule id
          <input name="id" required pattern="[A-Za-z0-9_.:\-]{1,100}" value={id} onChange={(e) => setId(e.target.value)} aria-describedby="rule-id-help" />
          <small id="rule-id-help">Stable name used in decisions and audit records, e.g. member.tasks.read</small>
        </label>
        <label>
          Role
          <input name="role" required list="known-roles" pattern="[a-z][a-z0-9_\-]{0,49}" value={role} onChange={(e) => setRole(e.target.value)} />
          <datalist id="known-roles">
            {[...new Set([...ROLES, ...roles])].map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </label>
      </div>
      <fieldset>
        <legend>Actions</legend>
        {ACTIONS.map((action) => (
          <label key={action} className="inline">
            <input type="checkbox" name="action" value={action} checked={actions.includes(action)} onChange={() => toggle(action)} /> {action}
          </label>
        ))}
      </fieldset>
      <div className="grid-2">
        <label>
          Subjects
          <input name="subject" required list="known-subjects" value={subjects} onChange={(e) => setSubjects(e.target.value)} aria-describedby="subject-help" />
          <datalist id="known-subjects">
            {SUBJECT_SUGGESTIONS.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          <small id="subject-help">Comma-separated: Project, Task, User, PolicyVersion, AuditEvent or all</small>
        </label>
        <label>
          Fields (optional)
          <input name="fields" value={fields} onChange={(e) => setFields(e.target.value)} aria-describedby="fields-help" />
          <small id="fields-help">Comma-separated; limits the rule to these fields</small>
        </label>
      </div>
      <label>
        Conditions (JSON, optional)
        <textarea name="conditions" rows={4} spellCheck={false} value={conditions} onChange={(e) => setConditions(e.target.value)} placeholder='{"ownerId": "${user.id}"}' aria-describedby="conditions-help" />
        <small id="conditions-help">{'Placeholders: ${user.id}, ${user.username}, ${user.role}. Relations: {"project": {"is": {"ownerId": "${user.id}"}}}'}</small>
      </label>
      <label className="inline">
        <input type="checkbox" name="inverted" checked={inverted} onChange={(e) => setInverted(e.target.checked)} /> Forbid (an inverted rule: denies what it matches)
      </label>
      <label>
        Reason (shown to users who are refused, optional)
        <input name="reason" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
      {problem ? (
        <p className="problem" role="alert">
          {problem}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary">
          Save to draft
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
