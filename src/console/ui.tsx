import { Component, useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react'
import { ApiError } from './api.ts'
import type { Page } from './types.ts'

// Small pieces every view uses: loading data, showing a problem, paging, confirming.

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true })
  const [generation, setGeneration] = useState(0)
  useEffect(() => {
    let current = true
    setState((previous) => ({ ...previous, loading: true }))
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState({ error, loading: false }),
    )
    return () => {
      current = false
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation])
  const reload = useCallback(() => setGeneration((n) => n + 1), [])
  return { ...state, reload }
}

export function ProblemMessage({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null
  if (error instanceof ApiError) {
    const { problem } = error
    return (
      <div className="problem" role="alert">
        <strong>{title ?? problem.title}</strong>
        {problem.status ? <span className="status"> ({problem.status})</span> : null}
        {problem.detail ? <p>{problem.detail}</p> : null}
        {problem.errors?.length ? (
          <ul>
            {problem.errors.map((item, i) => (
              <li key={i}>
                {item.field ? <code>{item.field}</code> : null} {item.message}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    )
  }
  return (
    <div className="problem" role="alert">
      <strong>{title ?? 'Something went wrong'}</strong>
      <p>{error instanceof Error ? error.message : JSON.stringify(error)}</p>
    </div>
  )
}

export function Pager<T>({ page, onOffset, label }: { page: Page<T>; onOffset: (offset: number) => void; label: string }) {
  const first = page.total === 0 ? 0 : page.offset + 1
  const last = Math.min(page.offset + page.limit, page.total)
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={page.offset === 0} onClick={() => onOffset(Math.max(0, page.offset - page.limit))}>
        ← Previous
      </button>
      <span aria-live="polite">
        {first}–{last} of {page.total}
      </span>
      <button type="button" disabled={last >= page.total} onClick={() => onOffset(page.offset + page.limit)}>
        Next →
      </button>
    </nav>
  )
}

/** A modal question with a focused Cancel button: Escape or Cancel says no. */
export function useConfirm(): [ReactNode, (question: string, confirmLabel: string) => Promise<boolean>] {
  const dialog = useRef<HTMLDialogElement>(null)
  const [question, setQuestion] = useState<{ text: string; label: string; answer: (yes: boolean) => void } | null>(null)
  useEffect(() => {
    if (question && dialog.current && !dialog.current.open) dialog.current.showModal()
  }, [question])
  const close = (yes: boolean) => {
    question?.answer(yes)
    dialog.current?.close()
    setQuestion(null)
  }
  const element = (
    <dialog ref={dialog} className="confirm" aria-labelledby="confirm-question" onCancel={() => close(false)}>
      <p id="confirm-question">{question?.text}</p>
      <div className="actions">
        <button type="button" autoFocus onClick={() => close(false)}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={() => close(true)}>
          {question?.label}
        </button>
      </div>
    </dialog>
  )
  const confirm = (text: string, label: string) => new Promise<boolean>((answer) => setQuestion({ text, label, answer }))
  return [element, confirm]
}

export function time(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

export function Notice({ children, kind = 'info' }: { children: ReactNode; kind?: 'info' | 'success' | 'warning' }) {
  return (
    <div className={`notice ${kind}`} role="status">
      {children}
    </div>
  )
}

/** A rule's one-or-many value as text; anything else (a malformed draft) as JSON. */
export function listText(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(', ')
  return value === undefined ? '' : JSON.stringify(value)
}

/** A labelled control with optional help text that is described by, not part of, its name. */
export function Field({
  label,
  help,
  children,
}: {
  label: string
  help?: ReactNode
  children: (control: { id: string; 'aria-describedby'?: string }) => ReactNode
}) {
  const id = useId()
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-describedby': help ? `${id}-help` : undefined })}
      {help ? <small id={`${id}-help`}>{help}</small> : null}
    </div>
  )
}

/** Keeps one part of the page from taking the rest down with it when it throws while rendering. */
export class ErrorBoundary extends Component<
  { children: ReactNode; fallback: (error: Error, reset: () => void) => ReactNode },
  { error: Error | null }
> {
  override state: { error: Error | null } = { error: null }
  static getDerivedStateFromError(error: Error) {
    return { error }
  }
  override render() {
    return this.state.error ? this.props.fallback(this.state.error, () => this.setState({ error: null })) : this.props.children
  }
}

/** A table's header row; `{ hidden }` names a column for screen readers only (a column of buttons). */
export function TableHead({ columns }: { columns: Array<string | { hidden: string }> }) {
  return (
    <thead>
      <tr>
        {columns.map((column) =>
          typeof column === 'string' ? (
            <th scope="col" key={column}>
              {column}
            </th>
          ) : (
            <th scope="col" key={column.hidden}>
              <span className="visually-hidden">{column.hidden}</span>
            </th>
          ),
        )}
      </tr>
    </thead>
  )
}

/** The columns that name a decision-table row, in every table of rows. */
export const ROW_COLUMNS = ['Row', 'Role', 'Action', 'Subject', 'Resource']
