import { useEffect, useRef, useState } from 'react'
import { ApiError, session } from './api.ts'
import { AccessView } from './AccessView.tsx'
import { AuditView } from './AuditView.tsx'
import { draftChanges } from './draft.ts'
import { ExplainView } from './ExplainView.tsx'
import { HistoryView } from './HistoryView.tsx'
import { usePolicy } from './policy-state.ts'
import { ReviewView } from './ReviewView.tsx'
import { RulesView } from './RulesView.tsx'
import { SignIn, whoAmI } from './SignIn.tsx'
import { TableView } from './TableView.tsx'
import type { Account } from './types.ts'
import { UsersView } from './UsersView.tsx'
import { ErrorBoundary } from './ui.tsx'

const VIEWS = [
  ['rules', 'Rules'],
  ['table', 'Decision table'],
  ['review', 'Review & activate'],
  ['history', 'History'],
  ['explain', 'Explain'],
  ['access', 'Access'],
  ['audit', 'Audit log'],
  ['users', 'Users'],
] as const
type View = (typeof VIEWS)[number][0]

/** `#/rules/member.projects.own` → view "rules", detail "member.projects.own". */
function useRoute(): { view: View; detail?: string } {
  const read = () => {
    const [, view, detail] = window.location.hash.split('/')
    const known = VIEWS.find(([name]) => name === view)
    let decoded: string | undefined
    try {
      decoded = detail ? decodeURIComponent(detail) : undefined
    } catch {
      decoded = undefined // a mangled link: show the view without a detail
    }
    return { view: known ? known[0] : 'rules', detail: decoded }
  }
  const [route, setRoute] = useState(read)
  useEffect(() => {
    const update = () => setRoute(read())
    window.addEventListener('hashchange', update)
    return () => window.removeEventListener('hashchange', update)
  }, [])
  return route
}

export function App() {
  const [account, setAccount] = useState<Account | null>(null)
  const [checking, setChecking] = useState(Boolean(session.token))
  const [notice, setNotice] = useState<string>()
  const signedIn = useRef(false)
  signedIn.current = account !== null
  const probing = useRef(false)

  useEffect(() => {
    session.onSignedOut((reason) => {
      setAccount(null)
      setNotice(reason)
    })
    // A 403 may mean this account was demoted meanwhile: if the policy no longer lets it in, out.
    session.onForbidden(() => {
      if (!signedIn.current || probing.current) return
      probing.current = true
      whoAmI()
        .then(
          ({ allowed }) => {
            if (allowed) return
            setAccount(null)
            setNotice('Your account no longer has access to the policy console.')
          },
          () => {},
        )
        .finally(() => (probing.current = false))
    })
    // A reload keeps the tab's session: ask the API who the token belongs to.
    if (session.token) {
      whoAmI()
        .then(
          ({ account: known, allowed }) =>
            allowed ? setAccount(known) : setNotice('Your account no longer has access to the policy console.'),
          (error: unknown) => {
            // A 401 has signed out already, with its reason; otherwise the token stays and a reload tries again.
            if (error instanceof ApiError && error.status === 401) return
            setNotice(
              `${error instanceof Error ? error.message : 'The server could not be reached.'} Reload the page to try again, or sign in.`,
            )
          },
        )
        .finally(() => setChecking(false))
    }
  }, [])

  if (checking) return <p className="loading">Loading…</p>
  if (!account)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(signedIn) => {
          setNotice(undefined)
          setAccount(signedIn)
        }}
      />
    )
  return (
    <Console
      account={account}
      onSignOut={() => {
        session.end()
        sessionStorage.clear()
        setAccount(null)
        setNotice('You have signed out.')
      }}
    />
  )
}

function Console({ account, onSignOut }: { account: Account; onSignOut: () => void }) {
  const route = useRoute()
  const policy = usePolicy(account.id)
  const changes = policy.active && policy.draft ? draftChanges(policy.active, policy.draft) : null
  const pending = changes ? changes.rules + (changes.order ? 1 : 0) + (changes.table ? 1 : 0) : 0
  useEffect(() => {
    document.getElementById('main')?.focus()
  }, [route.view])

  return (
    <div className="console">
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <h1>Policy console</h1>
        <span className="who">
          {account.username} <span className="badge">{account.role}</span> · active policy v{policy.active?.version ?? '…'}
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav className="tabs" aria-label="Sections">
        {VIEWS.map(([view, label]) => (
          <a key={view} href={`#/${view}`} aria-current={route.view === view ? 'page' : undefined}>
            {label}
            {view === 'review' && pending ? <span className="count"> {pending}</span> : null}
          </a>
        ))}
      </nav>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary
          key={route.view}
          fallback={(error, reset) => (
            <div className="problem" role="alert">
              <strong>This view failed</strong>
              <p>{error.message}</p>
              <button
                type="button"
                onClick={() => {
                  policy.discard()
                  reset()
                }}
              >
                Discard the draft and show it again
              </button>
            </div>
          )}
        >
          {route.view === 'rules' ? <RulesView state={policy} highlight={route.detail} /> : null}
          {route.view === 'table' ? <TableView state={policy} /> : null}
          {route.view === 'review' ? <ReviewView state={policy} /> : null}
          {route.view === 'history' ? <HistoryView state={policy} /> : null}
          {route.view === 'explain' ? <ExplainView /> : null}
          {route.view === 'access' ? <AccessView /> : null}
          {route.view === 'audit' ? <AuditView /> : null}
          {route.view === 'users' ? <UsersView me={account} /> : null}
        </ErrorBoundary>
      </main>
    </div>
  )
}
