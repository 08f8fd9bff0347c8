import { useState, type FormEvent } from 'react'
import { ApiError, request, session } from './api.ts'
import type { Account } from './types.ts'
import { ProblemMessage } from './ui.tsx'

interface Token {
  accessToken: string
}

/** The account behind the session's token, and whether the policy lets it use the console; a refused token is dropped. */
export async function whoAmI(): Promise<{ account: Account; allowed: boolean }> {
  const account = (await request<Account>('GET', '/api/me')).data
  try {
    await request('GET', '/api/admin/policies')
    return { account, allowed: true }
  } catch (problem) {
    if (!(problem instanceof ApiError && problem.status === 403)) throw problem
    session.end()
    return { account, allowed: false }
  }
}

/**
 * Username and password through the API's login. Whether the account may use the console is the
 * policy's answer: the console needs read access to the policy, which only admins have in
 * policies/. Anyone else is refused and their token dropped at once.
 */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (account: Account) => void; notice?: string }) {
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [refused, setRefused] = useState<Account | null>(null)
  const [busy, setBusy] = useState(false)

  async function submit(event: FormEvent) {
    event.preventDefault()
    setBusy(true)
    setError(null)
    setRefused(null)
    try {
      const { data } = await request<Token>('POST', '/api/auth/login', { username, password })
      session.start(data.accessToken)
      const { account, allowed } = await whoAmI()
      if (allowed) onSignedIn(account)
      else setRefused(account)
    } catch (problem) {
      session.end()
      setError(problem)
    } finally {
      setBusy(false)
      setPassword('')
    }
  }

  return (
    <main className="sign-in">
      <form onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Policy console</h1>
        <p className="muted">Who may see and change what, for Projects &amp; Tasks. For administrators.</p>
        {notice ? <p className="notice warning">{notice}</p> : null}
        <label>
          Username
          <input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {refused ? (
          <div className="problem" role="alert">
            <strong>Access refused</strong>
            <p>
              You are signed in as <b>{refused.username}</b> with the role <b>{refused.role}</b>. The policy console is for administrators
              only; you have been signed out.
            </p>
          </div>
        ) : null}
        <ProblemMessage error={error} title="Sign-in failed" />
      </form>
    </main>
  )
}
