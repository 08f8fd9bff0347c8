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
  /** The draft the report or error is about; results of an older draft are not shown as current. */
  of?: Draft
}

export function usePolicy(accountId: number) {
  const [active, setActive] = useState<ActivePolicy | null>(null)
  const [loadError, setLoadError] = useState<unknown>(null)
  const [draft, setDraftState] = useState<Draft | null>(() => loadDraft(accountId))
  const [validation, setValidation] = useState<Validation>({ checking: false })
  const sequence = useRef(0)
  const current = useRef(draft)
  current.current = draft

  const setDraft = useCallback(
    (next: Draft | null) => {
      saveDraft(accountId, next)
      setDraftState(next)
    },
    [accountId],
  )

  const reload = useCallback(async () => {
    try {
      const latest = (await request<ActivePolicy>('GET', '/api/admin/policies')).data
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

  useEffect(() => {
    if (!draft) return
    const mine = ++sequence.current
    setValidation((previous) => ({ ...previous, checking: true }))
    const timer = window.setTimeout(() => {
      api.post<Report>('/api/admin/policies/validate', { rules: draft.rules, table: draft.table }).then(
        (report) => mine === sequence.current && setValidation({ report, checking: false, of: draft }),
        (error: unknown) => mine === sequence.current && setValidation({ error, checking: false, of: draft }),
      )
    }, VALIDATE_DELAY_MS)
    return () => window.clearTimeout(timer)
  }, [draft])

  /** Activates the draft; the server checks that it is still based on the active version. */
  const activate = useCallback(
    async (message: string) => {
      const sent = current.current
      if (!sent) return
      const { data } = await request<ActivePolicy>('PUT', '/api/admin/policies', { rules: sent.rules, table: sent.table, message }, { 'if-match': `"${sent.basedOn}"` })
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

  /** The report, if it is about the draft as it is now. */
  const currentReport = validation.of === draft ? validation.report : undefined

  return { active, loadError, draft, setDraft, validation, currentReport, reload, activate, reapplyOnLatest, discard }
}

export type PolicyState = ReturnType<typeof usePolicy>
