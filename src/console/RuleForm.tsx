import { useEffect, useRef, useState, type FormEvent } from 'react'
import { ROLES } from '../shared/roles.ts'
import { ACTIONS, OBJECT_SUBJECTS, ROLE_NAME_PATTERN, RULE_ID_PATTERN } from '../shared/vocabulary.ts'
import type { PolicyRule } from './types.ts'
import { Field } from './ui.tsx'

// One rule as a form. Conditions are CASL/Prisma conditions typed as JSON; everything else has
// its own control. What the form cannot know (fields of a subject, operators) the validate
// endpoint checks as soon as the rule is saved into the draft.

/** Subjects offered as suggestions; the API validates against its data model. */
export const SUBJECT_SUGGESTIONS = [...OBJECT_SUBJECTS, 'PolicyVersion', 'AuditEvent', 'all']
const list = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value])
const oneOrMany = (values: string[]) => (values.length === 1 ? values[0]! : values)
const splitList = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)

export function RuleForm({
  rule,
  roles,
  takenIds,
  onSave,
  onCancel,
}: {
  rule: PolicyRule | null
  roles: string[]
  takenIds: string[]
  onSave: (rule: PolicyRule) => void
  onCancel: () => void
}) {
  const [id, setId] = useState(rule?.id ?? '')
  // (A rule typed as JSON may hold anything; the form shows what it can and the API judges the rest.)
  const [role, setRole] = useState(rule?.role ?? 'member')
  const [actions, setActions] = useState<string[]>(list(rule?.action))
  const [subjects, setSubjects] = useState(list(rule?.subject).join(', '))
  const [conditions, setConditions] = useState(rule?.conditions ? JSON.stringify(rule.conditions, null, 2) : '')
  const [fields, setFields] = useState(list(rule?.fields).join(', '))
  const [inverted, setInverted] = useState(rule?.inverted ?? false)
  const [reason, setReason] = useState(typeof rule?.reason === 'string' ? rule.reason : '')
  const [problem, setProblem] = useState<string | null>(null)
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => heading.current?.focus(), [])

  function submit(event: FormEvent) {
    event.preventDefault()
    if (!actions.length) {
      setProblem('Choose at least one action.')
      return
    }
    if (!splitList(subjects).length) {
      setProblem('Name at least one subject.')
      return
    }
    if (id !== rule?.id && takenIds.includes(id)) {
      setProblem(`Another rule already has the id "${id}".`)
      return
    }
    let parsed: Record<string, unknown> | undefined
    if (conditions.trim()) {
      try {
        const value: unknown = JSON.parse(conditions)
        if (!value || typeof value !== 'object' || Array.isArray(value)) {
          setProblem('Conditions must be a JSON object, such as {"ownerId": "${user.id}"}.')
          return
        }
        parsed = value as Record<string, unknown>
      } catch (error) {
        setProblem(`Conditions are not valid JSON: ${(error as Error).message}`)
        return
      }
    }
    onSave({
      id,
      role,
      action: oneOrMany(actions),
      subject: oneOrMany(splitList(subjects)),
      ...(parsed ? { conditions: parsed } : {}),
      ...(splitList(fields).length ? { fields: oneOrMany(splitList(fields)) } : {}),
      ...(inverted ? { inverted: true } : {}),
      ...(reason.trim() ? { reason: reason.trim() } : {}),
    })
  }

  const toggle = (action: string) =>
    setActions((current) => (current.includes(action) ? current.filter((a) => a !== action) : [...current, action]))

  return (
    <form className="card rule-form" onSubmit={submit} aria-labelledby="rule-form-title">
      <h3 id="rule-form-title" tabIndex={-1} ref={heading}>
        {rule ? `Edit rule ${rule.id}` : 'New rule'}
      </h3>
      <div className="grid-2">
        <Field label="Rule id" help="Stable name used in decisions and audit records, e.g. member.tasks.read">
          {(control) => (
            <input {...control} name="id" required pattern={RULE_ID_PATTERN} value={id} onChange={(e) => setId(e.target.value)} />
          )}
        </Field>
        <Field label="Role">
          {(control) => (
            <>
              <input
                {...control}
                name="role"
                required
                list="known-roles"
                pattern={ROLE_NAME_PATTERN}
                value={role}
                onChange={(e) => setRole(e.target.value)}
              />
              <datalist id="known-roles">
                {[...new Set([...ROLES, ...roles])].map((name) => (
                  <option key={name} value={name} />
                ))}
              </datalist>
            </>
          )}
        </Field>
      </div>
      <fieldset>
        <legend>Actions</legend>
        {ACTIONS.map((action) => (
          <label key={action} className="inline">
            <input type="checkbox" name="action" value={action} checked={actions.includes(action)} onChange={() => toggle(action)} />{' '}
            {action}
          </label>
        ))}
      </fieldset>
      <div className="grid-2">
        <Field label="Subjects" help="Comma-separated: Project, Task, User, PolicyVersion, AuditEvent or all">
          {(control) => (
            <>
              <input
                {...control}
                name="subject"
                required
                list="known-subjects"
                value={subjects}
                onChange={(e) => setSubjects(e.target.value)}
              />
              <datalist id="known-subjects">
                {SUBJECT_SUGGESTIONS.map((name) => (
                  <option key={name} value={name} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field label="Fields (optional)" help="Comma-separated; limits the rule to these fields">
          {(control) => <input {...control} name="fields" value={fields} onChange={(e) => setFields(e.target.value)} />}
        </Field>
      </div>
      <Field
        label="Conditions (JSON, optional)"
        help={'Placeholders: ${user.id}, ${user.username}, ${user.role}. Relations: {"project": {"is": {"ownerId": "${user.id}"}}}'}
      >
        {(control) => (
          <textarea
            {...control}
            name="conditions"
            rows={4}
            spellCheck={false}
            value={conditions}
            onChange={(e) => setConditions(e.target.value)}
            placeholder='{"ownerId": "${user.id}"}'
          />
        )}
      </Field>
      <label className="inline">
        <input type="checkbox" name="inverted" checked={inverted} onChange={(e) => setInverted(e.target.checked)} /> Forbid (an inverted
        rule: denies what it matches)
      </label>
      <Field label="Reason (shown to users who are refused, optional)">
        {(control) => <input {...control} name="reason" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />}
      </Field>
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
