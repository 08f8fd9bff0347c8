import { useState, type FormEvent } from 'react'
import { api, query } from './api.ts'
import type { Grants, ProjectAccess, User, UserAccess } from './types.ts'
import { Pager, ProblemMessage, TableHead, useLoad } from './ui.tsx'
import { UserPicker } from './UserPicker.tsx'

// Who can access a project (per role, and the users who differ from their role), and what one
// user can do (per subject and action), each with the rules that allow it, linked to the rules view.

const PAGE = 25
const IDS = 20
const QUESTIONS = [
  ['read', 'Read'],
  ['update', 'Update'],
  ['delete', 'Delete'],
  ['createTask', 'Create task'],
] as const

function RuleLink({ id }: { id: string }) {
  return (
    <a href={`#/rules/${encodeURIComponent(id)}`}>
      <code>{id}</code>
    </a>
  )
}

function GrantCells({ grants }: { grants: Grants }) {
  return (
    <>
      {QUESTIONS.map(([question, label]) => {
        const ruleId = grants[question]
        return (
          <td key={question} className={ruleId === undefined ? undefined : 'allow'}>
            {ruleId === undefined ? (
              <>
                <span className="muted" aria-hidden="true">
                  —
                </span>
                <span className="visually-hidden">{label}: not allowed</span>
              </>
            ) : ruleId === null ? (
              'allowed'
            ) : (
              <RuleLink id={ruleId} />
            )}
          </td>
        )
      })}
    </>
  )
}

const GRANT_COLUMNS = QUESTIONS.map(([, label]) => label)

export function AccessView() {
  return (
    <section aria-labelledby="access-title">
      <header className="view-header">
        <h2 id="access-title">Access</h2>
      </header>
      <ProjectAccessPanel />
      <UserAccessPanel />
    </section>
  )
}

function ProjectAccessPanel() {
  const [input, setInput] = useState('')
  const [asked, setAsked] = useState<{ id: number; offset: number } | null>(null)
  const access = useLoad(
    () =>
      asked
        ? api.get<ProjectAccess>(`/api/projects/${asked.id}/access${query({ limit: PAGE, offset: asked.offset })}`)
        : Promise.resolve(null),
    [asked],
  )
  const data = access.data && access.data.projectId === asked?.id ? access.data : null

  function ask(event: FormEvent) {
    event.preventDefault()
    setAsked({ id: Number(input), offset: 0 })
  }

  return (
    <section aria-labelledby="project-access-title" className="access-project">
      <h3 id="project-access-title">Who can access this project?</h3>
      <form className="card" onSubmit={ask}>
        <label>
          Project id
          <input name="projectId" type="number" min={1} required value={input} onChange={(e) => setInput(e.target.value)} />
        </label>
        <button type="submit" className="primary">
          Show who can access it
        </button>
      </form>
      <ProblemMessage error={asked ? access.error : undefined} title={asked ? `Cannot show access to project #${asked.id}` : undefined} />
      {data ? (
        <>
          <p role="status">
            Project #{data.projectId} · policy version {data.policyVersion}. Every user of a role has its grants, except the listed users
            below.
          </p>
          <div className="scroll">
            <table className="access-roles" aria-label={`Access to project #${data.projectId} by role`}>
              <TableHead columns={['Role', 'Method', 'Users', ...GRANT_COLUMNS, 'Listed']} />
              <tbody>
                {data.roles.map((role) => (
                  <tr key={role.role} data-role={role.role}>
                    <th scope="row">{role.role}</th>
                    <td>{role.method}</td>
                    <td>{role.count}</td>
                    <GrantCells grants={role.grants} />
                    <td>{role.listed}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h4>Users whose access differs from their role’s</h4>
          <div className="scroll">
            <table className="access-users" aria-label={`Users with their own access to project #${data.projectId}`}>
              <TableHead columns={['Username', 'Role', ...GRANT_COLUMNS]} />
              <tbody>
                {data.users.items.map((user) => (
                  <tr key={user.userId} data-user={user.username}>
                    <th scope="row">
                      {user.username} <span className="muted">#{user.userId}</span>
                    </th>
                    <td>{user.role}</td>
                    <GrantCells grants={user.grants} />
                  </tr>
                ))}
                {data.users.items.length === 0 ? (
                  <tr>
                    <td colSpan={2 + GRANT_COLUMNS.length}>No user differs from their role.</td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </div>
          <Pager page={data.users} onOffset={(offset) => setAsked({ id: data.projectId, offset })} label="Listed users" />
        </>
      ) : null}
    </section>
  )
}

function UserAccessPanel() {
  const [chosen, setChosen] = useState<User | null>(null)
  const [asked, setAsked] = useState<User | null>(null)
  const reach = useLoad(
    () => (asked ? api.get<UserAccess>(`/api/admin/users/${asked.id}/access${query({ limit: IDS })}`) : Promise.resolve(null)),
    [asked],
  )
  const data = reach.data && reach.data.user.id === asked?.id ? reach.data : null

  function ask(event: FormEvent) {
    event.preventDefault()
    setAsked(chosen)
  }

  return (
    <section aria-labelledby="user-access-title" className="access-user">
      <h3 id="user-access-title">What can this user do?</h3>
      <form className="card" onSubmit={ask}>
        <div className="grid-2">
          <UserPicker chosen={chosen} onChoose={setChosen} none="Choose a user" />
        </div>
        <button type="submit" className="primary" disabled={!chosen}>
          Show what they can do
        </button>
      </form>
      <ProblemMessage error={asked ? reach.error : undefined} title={asked ? `Cannot show what ${asked.username} can do` : undefined} />
      {data ? (
        <>
          <p role="status">
            {data.user.username} ({data.user.role}, #{data.user.id}) · policy version {data.policyVersion}. Counts only what you may read
            too.
          </p>
          <div className="scroll">
            <table className="access-reach" aria-label={`What ${data.user.username} can do`}>
              <TableHead columns={['Subject', 'Action', 'Count', `Ids (first ${IDS})`, 'Allowing rules']} />
              <tbody>
                {data.reach.map((row) => (
                  <tr key={`${row.subject}-${row.action}`} data-subject={row.subject} data-action={row.action}>
                    <th scope="row">{row.subject}</th>
                    <td>{row.action}</td>
                    <td className={row.count ? 'allow' : undefined}>{row.count}</td>
                    <td>{row.ids.length ? `${row.ids.join(', ')}${row.count > row.ids.length ? ', …' : ''}` : '—'}</td>
                    <td>
                      {row.rules.length ? (
                        <ul className="rule-counts">
                          {row.rules.map((rule, i) => (
                            <li key={rule.ruleId ?? `unnamed-${i}`}>
                              {rule.ruleId ? <RuleLink id={rule.ruleId} /> : 'a rule without id'}: {rule.count}
                            </li>
                          ))}
                        </ul>
                      ) : (
                        '—'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  )
}
