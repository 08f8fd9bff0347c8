import { useState } from 'react'
import { ROLES } from '../shared/roles.ts'
import { TABLE_ACTIONS, TABLE_RESOURCES, TABLE_SUBJECTS } from '../shared/vocabulary.ts'
import type { PolicyState } from './policy-state.ts'
import { DraftStatus } from './RulesView.tsx'
import type { TableRow } from './types.ts'
import { ProblemMessage, ROW_COLUMNS, TableHead } from './ui.tsx'

// The decision table of the draft: every row editable, rows added and removed, each row's result
// against the draft's rules shown beside it (the same evaluation the API runs before activation).

const NEW_ROW: TableRow = { role: 'member', action: 'read', subject: 'Project', resource: 'own', expect: 'allow', status: 200 }

export function TableView({ state }: { state: PolicyState }) {
  const { draft, setDraft, validation, currentReport } = state
  const [role, setRole] = useState('')
  const [onlyFailing, setOnlyFailing] = useState(false)
  if (!draft) return <ProblemMessage error={state.loadError} />

  // Results are matched by row number, so only a report on the table as it is now is shown; the
  // last one still decides which rows "only failing" keeps while a check runs (no row vanishes mid-edit).
  const results = new Map((currentReport?.table?.rows ?? []).map((result) => [result.row, result]))
  const lastResults = new Map((validation.report?.table?.rows ?? []).map((result) => [result.row, result]))
  const roles = [...new Set([...ROLES, ...draft.table.map((row) => row.role)])]
  const update = (index: number, patch: Partial<TableRow>) =>
    setDraft({ ...draft, table: draft.table.map((row, i) => (i === index ? { ...row, ...patch } : row)) }, { typing: true })
  const shown = draft.table
    .map((row, index) => ({ row, index, result: results.get(index + 1) }))
    .filter(({ row, index }) => {
      const last = lastResults.get(index + 1)
      return (!role || row.role === role) && (!onlyFailing || !last || !last.pass)
    })

  return (
    <section aria-labelledby="table-title">
      <header className="view-header">
        <h2 id="table-title">Decision table</h2>
        <DraftStatus state={state} />
        <div className="actions">
          <button type="button" onClick={() => setDraft({ ...draft, table: [...draft.table, { ...NEW_ROW }] })}>
            Add row
          </button>
          <button type="button" onClick={() => setDraft({ ...draft })}>
            Run against the draft
          </button>
        </div>
      </header>
      <p className="muted">
        Each row is a request the API must answer as written: <i>role</i> does <i>action</i> on a <i>subject</i> that is the caller's own,
        shared with the caller as editor or viewer, another member's, or missing (policies/decision-table.md says what each means per
        subject). Results update as you edit.
      </p>
      <div className="filters">
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            <option value="">All roles</option>
            {roles.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <label className="inline">
          <input type="checkbox" checked={onlyFailing} onChange={(e) => setOnlyFailing(e.target.checked)} /> Only failing rows
        </label>
      </div>
      <div className="scroll">
        <table className="decision-table">
          <TableHead columns={[...ROW_COLUMNS, 'Expect', 'Status', 'Note', 'Result', { hidden: 'Remove' }]} />
          <tbody>
            {shown.map(({ row, index, result }) => {
              const n = index + 1
              return (
                <tr key={index} className={result ? (result.pass ? 'pass' : 'fail') : ''} data-row={n}>
                  <td>{n}</td>
                  <td>
                    <input
                      aria-label={`Row ${n} role`}
                      value={row.role}
                      size={8}
                      onChange={(e) => update(index, { role: e.target.value })}
                      list="table-roles"
                    />
                  </td>
                  <td>
                    <Choice
                      label={`Row ${n} action`}
                      value={row.action}
                      options={TABLE_ACTIONS}
                      onChange={(action) => update(index, { action })}
                    />
                  </td>
                  <td>
                    <Choice
                      label={`Row ${n} subject`}
                      value={row.subject}
                      options={TABLE_SUBJECTS}
                      onChange={(subject) => update(index, { subject })}
                    />
                  </td>
                  <td>
                    <Choice
                      label={`Row ${n} resource`}
                      value={row.resource}
                      options={TABLE_RESOURCES}
                      onChange={(resource) => update(index, { resource })}
                    />
                  </td>
                  <td>
                    <Choice
                      label={`Row ${n} expect`}
                      value={row.expect}
                      options={['allow', 'deny'] as const}
                      onChange={(expect) => update(index, { expect })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`Row ${n} status`}
                      type="number"
                      min={100}
                      max={599}
                      value={row.status}
                      onChange={(e) => update(index, { status: Number(e.target.value) })}
                      className="status-input"
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`Row ${n} note`}
                      value={row.note ?? ''}
                      maxLength={500}
                      onChange={(e) => update(index, { note: e.target.value || undefined })}
                    />
                  </td>
                  <td className={result ? (result.pass ? 'allow' : 'deny') : ''}>
                    {result ? `${result.allowed ? 'allow' : 'deny'} ${result.got} ${result.pass ? '✓' : '✗'}` : '…'}
                    {result?.ruleId ? (
                      <>
                        {' '}
                        <a href={`#/rules/${encodeURIComponent(result.ruleId)}`}>{result.ruleId}</a>
                      </>
                    ) : null}
                  </td>
                  <td>
                    <button
                      type="button"
                      aria-label={`Remove row ${n}`}
                      onClick={() => setDraft({ ...draft, table: draft.table.filter((_, i) => i !== index) })}
                    >
                      ✕
                    </button>
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
        <datalist id="table-roles">
          {roles.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
      </div>
      {validation.error ? <ProblemMessage error={validation.error} title="The table cannot be run" /> : null}
    </section>
  )
}

function Choice<T extends string>({
  label,
  value,
  options,
  onChange,
}: {
  label: string
  value: T
  options: readonly T[]
  onChange: (value: T) => void
}) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as T)}>
      {options.map((option) => (
        <option key={option}>{option}</option>
      ))}
    </select>
  )
}
