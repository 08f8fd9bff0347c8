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
}

export function usePolicy() {
  const [active, setActive] = useState<ActivePolicy | null>(null)
  const [loadError, setLoadError] = useState<unknown>(null)
  const [draft, setDraftState] = useState<Draft | null>(loadDraft)
  const [validation, setValidation] = useState<Validation>({ checking: false })
  const sequence = useRef(0)

  const setDraft = useCallback((next: Draft | null) => {
    saveDraft(next)
    setDraftState(next)
  }, [])

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
      (latest) => setDraftState((current) => current ?? draftFrom(latest)),
      () => {},
    )
  }, [reload])

  useEffect(() => {
    if (!draft) return
    const mine = ++sequence.current
    setValidation((previous) => ({ ...previous, checking: true }))
    const timer = window.setTimeout(() => {
      api.post<Report>('/api/admin/policies/validate', { rules: draft.rules, table: draft.table }).then(
        (report) => mine === sequence.current && setValidation({ report, checking: false }),
        (error: unknown) => mine === sequence.current && setValidation({ error, checking: false }),
      )
    }, VALIDATE_DELAY_MS)
    return () => window.clearTimeout(timer)
  }, [draft])

  /** Activates the draft; the server checks that it is still based on the active version. */
  const activate = useCallback(
    async (message: string) => {
      if (!draft) return
      const { data } = await request<ActivePolicy>('PUT', '/api/admin/policies', { rules: draft.rules, table: draft.table, message }, { 'if-match': `"${draft.basedOn}"` })
      setActive(data)
      setDraft(draftFrom(data))
      return data
    },
    [draft, setDraft],
  )

  /** After a 409: the latest version with the draft's edits applied again. */
  const reapplyOnLatest = useCallback(async () => {
    if (!draft) return
    const base = await api.get<VersionWithRules>(`/api/admin/policies/versions/${draft.basedOn}`)
    const latest = await reload()
    setDraft(rebase({ version: base.version, rules: base.rules, table: base.table }, draft, latest))
  }, [draft, reload, setDraft])

  const discard = useCallback(() => active && setDraft(draftFrom(active)), [active, setDraft])

  return { active, loadError, draft, setDraft, validation, reload, activate, reapplyOnLatest, discard }
}

export type PolicyState = ReturnType<typeof usePolicy>
