import type { PrismaClient } from '../generated/prisma/client.ts'
import { rowsToData } from './decision-table.ts'
import { review, type Proposal, type TableReport } from './review.ts'
import type { PolicyError } from './validate.ts'
import { VersionConflictError, type Author, type PolicyStore, type PolicyVersion } from './versions.ts'

// Making a proposal the active version, audited in the same transaction. Every refusal is a
// typed outcome; the admin API turns them into HTTP answers and the CLI into exit codes.

export type AuditKind = 'policy.activate' | 'policy.rollback'

export type Activation =
  /** Somebody activated another version since `basedOn`. */
  | { outcome: 'stale'; current: number }
  | { outcome: 'invalid'; errors: PolicyError[] }
  | { outcome: 'table-failed'; failures: TableReport['rows'] }
  | { outcome: 'lockout'; reason: string }
  | { outcome: 'activated'; active: PolicyVersion; previous: number }

export async function activate(
  db: PrismaClient,
  store: PolicyStore,
  proposal: Proposal,
  basedOn: number,
  author: Author,
  kind: AuditKind = 'policy.activate',
): Promise<Activation> {
  const active = store.snapshot
  if (basedOn !== active.version) return { outcome: 'stale', current: active.version }
  const reviewed = await review(db, active, proposal, { impact: false })
  if (!reviewed.valid) return { outcome: 'invalid', errors: reviewed.errors }
  if (reviewed.table.failed) return { outcome: 'table-failed', failures: reviewed.table.rows.filter((row) => !row.pass) }
  if (reviewed.lockout) return { outcome: 'lockout', reason: reviewed.lockout }
  const next = { rules: proposal.rules, table: proposal.table ?? rowsToData(active.table), compiled: reviewed.compiled }
  const message = proposal.message ?? ''
  try {
    const activated = await store.activate(next, basedOn, author, message, async (tx, version) => {
      await tx.auditEvent.create({
        data: {
          kind,
          userId: author.id,
          username: author.username,
          policyVersion: version,
          detail: { basedOn, message, rules: reviewed.rules, tableChanged: proposal.table !== undefined, flips: reviewed.flips.length },
        },
      })
    })
    return { outcome: 'activated', active: activated, previous: active.version }
  } catch (error) {
    if (error instanceof VersionConflictError) return { outcome: 'stale', current: error.current }
    throw error
  }
}
