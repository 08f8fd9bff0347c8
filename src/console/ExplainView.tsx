import { useRef, useState, type FormEvent } from 'react'
import { ACTIONS, OBJECT_SUBJECTS } from '../shared/vocabulary.ts'
import { api } from './api.ts'
import type { Explanation, User } from './types.ts'
import { ProblemMessage } from './ui.tsx'
import { UserPicker } from './UserPicker.tsx'

// Why may (or may not) this user do this to that object? Answered by the active policy, with the
// deciding rule linked to its place in the rules view.

export function ExplainView() {
  const [chosen, setChosen] = useState<User | null>(null)
  const [action, setAction] = useState('read')
  const [subject, setSubject] = useState<string>('Project')
  const [id, setId] = useState('')
  const [answer, setAnswer] = useState<{ explanation?: Explanation; error?: unknown; asked?: string } | null>(null)

  const latest = useRef(0)
  async function ask(event: FormEvent) {
    event.preventDefault()
    const mine = ++latest.current
    const asked = `${chosen ? chosen.username : 'you'} → ${action} ${subject} #${id}`
    try {
      const explanation = await api.post<Explanation>('/api/authz/explain', {
        action,
        subject,
        id: Number(id),
        ...(chosen ? { userId: chosen.id } : {}),
      })
      if (mine === latest.current) setAnswer({ explanation, asked })
    } catch (error) {
      if (mine === latest.current) setAnswer({ error, asked })
    }
  }

  return (
    <section aria-labelledby="explain-title">
      <header className="view-header">
        <h2 id="explain-title">Explain a decision</h2>
      </header>
      <form className="card explain" onSubmit={ask}>
        <div className="grid-2">
          <UserPicker chosen={chosen} onChoose={setChosen} none="Me" />
          <label>
            Action
            <select name="action" value={action} onChange={(e) => setAction(e.target.value)}>
              {ACTIONS.filter((a) => a !== 'manage').map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
          <label>
            Subject
            <select name="subject" value={subject} onChange={(e) => setSubject(e.target.value)}>
              {OBJECT_SUBJECTS.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <label>
            Object id
            <input name="id" type="number" min={1} required value={id} onChange={(e) => setId(e.target.value)} />
          </label>
        </div>
        <button type="submit" className="primary">
          Explain
        </button>
      </form>
      {answer?.explanation ? (
        <div className={`explanation ${answer.explanation.allowed ? 'allowed' : 'denied'}`} role="status" aria-live="polite">
          <p className="verdict">
            {answer.asked}: <strong>{answer.explanation.allowed ? 'Allowed' : 'Denied'}</strong>
          </p>
          <p>{answer.explanation.reason}</p>
          <p>
            Deciding rule:{' '}
            {answer.explanation.ruleId ? (
              <a href={`#/rules/${encodeURIComponent(answer.explanation.ruleId)}`}>
                <code>{answer.explanation.ruleId}</code>
              </a>
            ) : (
              'none (nothing allows it, so it is denied)'
            )}{' '}
            · policy version {answer.explanation.policyVersion}
          </p>
        </div>
      ) : null}
      <ProblemMessage error={answer?.error} title={answer?.asked ? `Cannot explain ${answer.asked}` : undefined} />
    </section>
  )
}
