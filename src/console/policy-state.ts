import { useCallback, useEffect, useRef, useState } from 'react'
import { api, request } from './api.ts'
import { draftFrom, loadDraft, rebase, saveDraft, type Draft } from './draft.ts'
import type { ActivePolicy, Report, VersionWithRules } from './types.ts'

// The active policy, the admin's draft of the next one, and the validation report of that draft
// (refreshed shortly after every edit, so errors show as the admin types).

const VALIDATE_DELAY_MS = 350

export interface Validation {
  report?: Report
  error?: unknown
  checking: boolean
  /** The draft and active version the report is about; results of older ones are not current. */
  of?: Draft
  against?: number
}

export function usePolicy(accountId: number) {
  const [active, setActive] = useState<ActivePolicy | null>(null)
  const [loadError, setLoadError] = useState<unknown>(null)
  const [draft, setDraftState] = useState<Draft | null>(() => loadDraft(accountId))
  const [validation, setValidation] = useState<Validation>({ checking: false })
  const sequence = useRef(0)
  const current = useRef(draft)
  current.current = draft
  /** Typing waits for a pause before the draft is checked; a click is checked at once. */
  const typing = useRef(false)

  const setDraft = useCallback(
    (next: Draft | null, options: { typing?: boolean } = {}) => {
      typing.current = options.typing ?? false
      saveDraft(accountId, next)
      setDraftState(next)
    },
    [accountId],
  )

  const reload = useCallback(async () => {
    try {
      const latest = (await request<ActivePolicy | null>('GET', '/api/admin/policies')).data
      if (!latest || !Array.isArray(latest.rules)) throw new Error('The server sent no policy.')
      setActive(latest)
      setLoadError(null)
      return latest
    } catch (error) {
      setLoadError(error)
      throw error
    }
  }, [])

  useEffect(() => {
    reload().then(
      (latest) => setDraftState((saved) => saved ?? draftFrom(latest)),
      () => {},
    )
  }, [reload])

  // Checked against the active version too: flips and impact change when it does.
  const against = active?.version
  useEffect(() => {
    if (!draft || against === undefined) return
    const mine = ++sequence.current
    setValidation((previous) => ({ ...previous, checking: true }))
    const timer = window.setTimeout(
      () => {
        api.post<Report>('/api/admin/policies/validate', { rules: draft.rules, table: draft.table }).then(
          (report) => mine === sequence.current && setValidation({ report, checking: false, of: draft, against }),
          (error: unknown) => mine === sequence.current && setValidation({ error, checking: false, of: draft, against }),
        )
      },
      typing.current ? VALIDATE_DELAY_MS : 0,
    )
    return () => window.clearTimeout(timer)
  }, [draft, against])

  /** Activates the draft; the server checks that it is still based on the active version. */
  const activate = useCallback(
    async (message: string) => {
      const sent = current.current
      if (!sent) return
      const { data } = await request<ActivePolicy>(
        'PUT',
        '/api/admin/policies',
        { rules: sent.rules, table: sent.table, message },
        { 'if-match': `"${sent.basedOn}"` },
      )
      setActive(data)
      // Edits made while the request was on its way stay in the draft (based on the new version).
      setDraft(current.current === sent ? draftFrom(data) : { ...current.current!, basedOn: data.version })
      return data
    },
    [setDraft],
  )

  /** After a 409: the latest version with the draft's edits applied again; what they override. */
  const reapplyOnLatest = useCallback(async () => {
    const edited = current.current
    if (!edited) return []
    const base = await api.get<VersionWithRules>(`/api/admin/policies/versions/${edited.basedOn}`)
    const latest = await reload()
    const { draft: rebased, overridden } = rebase({ version: base.version, rules: base.rules, table: base.table }, edited, latest)
    setDraft(rebased)
    return overridden
  }, [reload, setDraft])

  const discard = useCallback(() => active && setDraft(draftFrom(active)), [active, setDraft])

  /** Whether the report (or error) is about the draft and active version as they are now. */
  const upToDate = validation.of === draft && validation.against === against && !validation.checking
  const currentReport = upToDate ? validation.report : undefined

  return { active, loadError, draft, setDraft, validation, upToDate, currentReport, reload, activate, reapplyOnLatest, discard }
}

export type PolicyState = ReturnType<typeof usePolicy>
