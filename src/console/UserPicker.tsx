import { useState } from 'react'
import { api, query } from './api.ts'
import type { Page, User } from './types.ts'
import { ProblemMessage, useLoad } from './ui.tsx'

// Find a user by name and choose one: a search box and a select of the first 100 matches.

export function UserPicker({
  chosen,
  onChoose,
  none,
}: {
  chosen: User | null
  onChoose: (user: User | null) => void
  /** The empty choice's label ("Me", "Choose a user"). */
  none: string
}) {
  const [search, setSearch] = useState('')
  const users = useLoad(
    () => api.get<Page<User>>(`/api/admin/users${query({ limit: 100, search: search || undefined, ordering: 'username' })}`),
    [search],
  )
  // The chosen user stays a choice while the search shows others, so what is asked is what is shown.
  const choices = [...(chosen ? [chosen] : []), ...(users.data?.items ?? []).filter((user) => user.id !== chosen?.id)]
  return (
    <>
      <label>
        Find user
        <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="username" />
      </label>
      <label>
        User
        <select
          name="userId"
          value={chosen?.id ?? ''}
          onChange={(e) => onChoose(choices.find((user) => String(user.id) === e.target.value) ?? null)}
        >
          <option value="">{none}</option>
          {choices.map((user) => (
            <option key={user.id} value={user.id}>
              {user.username} ({user.role}, #{user.id})
            </option>
          ))}
        </select>
      </label>
      {users.error ? <ProblemMessage error={users.error} title="Users could not be listed" /> : null}
    </>
  )
}
