import { useState } from 'react'
import { ROLES } from '../shared/roles.ts'
import { api, query } from './api.ts'
import type { Account, Page, User } from './types.ts'
import { Notice, Pager, ProblemMessage, TableHead, time, useConfirm, useLoad } from './ui.tsx'

// Accounts: change a role (effective on that user's next request), delete with confirmation.

const PAGE = 25

export function UsersView({ me }: { me: Account }) {
  const [search, setSearch] = useState('')
  const [offset, setOffset] = useState(0)
  const users = useLoad(
    () => api.get<Page<User>>(`/api/admin/users${query({ limit: PAGE, offset, search: search || undefined })}`),
    [search, offset],
  )
  const [roles, setRoles] = useState<Record<number, string>>({})
  const [outcome, setOutcome] = useState<{ done?: string; error?: unknown } | null>(null)
  const [dialog, confirm] = useConfirm()

  async function saveRole(user: User) {
    const role = roles[user.id]!
    try {
      await api.patch<User>(`/api/admin/users/${user.id}`, { role })
      setOutcome({ done: `${user.username} is now ${role}.` })
      setRoles((roles) => Object.fromEntries(Object.entries(roles).filter(([id]) => Number(id) !== user.id)))
      users.reload()
    } catch (error) {
      setOutcome({ error })
    }
  }

  async function remove(user: User) {
    if (!(await confirm(`Delete ${user.username} with all their projects and tasks? This cannot be undone.`, `Delete ${user.username}`)))
      return
    try {
      await api.delete(`/api/admin/users/${user.id}`)
      setOutcome({ done: `${user.username} was deleted.` })
      users.reload()
    } catch (error) {
      setOutcome({ error })
    }
  }

  return (
    <section aria-labelledby="users-title">
      <header className="view-header">
        <h2 id="users-title">Users</h2>
        <label className="search">
          Search users
          <input
            type="search"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value)
              setOffset(0)
            }}
            placeholder="username"
          />
        </label>
      </header>
      {dialog}
      {outcome?.done ? <Notice kind="success">{outcome.done}</Notice> : null}
      <ProblemMessage error={outcome?.error} title="Not changed" />
      <ProblemMessage error={users.error} />
      {users.data ? (
        <>
          <div className="scroll">
            <table className="users">
              <TableHead columns={['Id', 'Username', 'Role', 'Created', { hidden: 'Actions' }]} />
              <tbody>
                {users.data.items.map((user) => {
                  const pending = roles[user.id]
                  return (
                    <tr key={user.id} data-user={user.username}>
                      <td>{user.id}</td>
                      <td>
                        {user.username} {user.id === me.id ? <span className="badge">you</span> : null}
                      </td>
                      <td>
                        <select
                          aria-label={`Role of ${user.username}`}
                          value={pending ?? user.role}
                          onChange={(e) => setRoles({ ...roles, [user.id]: e.target.value })}
                        >
                          {[...new Set([...ROLES, user.role])].map((role) => (
                            <option key={role}>{role}</option>
                          ))}
                        </select>
                        {pending && pending !== user.role ? (
                          <button
                            type="button"
                            className="primary"
                            onClick={() => saveRole(user)}
                            aria-label={`Save role of ${user.username}`}
                          >
                            Save role
                          </button>
                        ) : null}
                      </td>
                      <td>
                        <time dateTime={user.createdAt}>{time(user.createdAt)}</time>
                      </td>
                      <td>
                        <button type="button" className="danger" onClick={() => remove(user)} aria-label={`Delete ${user.username}`}>
                          Delete
                        </button>
                      </td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
          <Pager page={users.data} onOffset={setOffset} label="Users" />
        </>
      ) : null}
    </section>
  )
}
