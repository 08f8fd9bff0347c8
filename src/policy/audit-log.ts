import type { FastifyBaseLogger } from 'fastify'
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'

// Denied requests are recorded in batches: one INSERT per batch instead of one per refusal, so a
// flood of refused requests (a BOLA scan) costs the database little. A batch is written within
// FLUSH_MS, and before anything reads the log or the server stops.
//
// Callers choose much of what a record holds (URL, request id), so a record must never be able
// to take its batch down with it: rows are made storable first, a batch the database refuses is
// retried row by row, and whatever is still lost is counted and logged. The queue is bounded:
// when the database cannot keep up, new records are shed (counted, logged), requests never wait.

const FLUSH_MS = 200
const MAX_BATCH = 500
/** Records held in memory at most: about 10 MB at the sizes `storable` allows. */
const CAPACITY = 10_000
/** Column widths of AuditEvent (prisma/schema.prisma). */
const COLUMN_WIDTH = { kind: 40, username: 150, action: 40, subject: 60, ruleId: 100, requestId: 100 } as const
/** Longest text kept inside `detail` (a URL, a reason); the rest is cut and marked. */
export const MAX_DETAIL_TEXT = 2000

type AuditRecord = Prisma.AuditEventCreateManyInput

export interface AuditStats {
  /** Records waiting to be written, the batch being written included. */
  queued: number
  /** Records shed because the queue was full, since start. */
  dropped: number
  /** Records the database refused even alone, since start. */
  failed: number
}

export class AuditLog {
  private pending: AuditRecord[] = []
  private inFlight = 0
  private dropped = 0
  private failed = 0
  private droppedSinceLog = 0
  private timer?: NodeJS.Timeout
  private writing: Promise<void> = Promise.resolve()
  private readonly capacity: number

  constructor(
    private readonly db: PrismaClient,
    private readonly log: FastifyBaseLogger,
    options: { capacity?: number } = {},
  ) {
    this.capacity = options.capacity ?? CAPACITY
  }

  /** Queues a record; never blocks and never throws. */
  record(event: AuditRecord): void {
    if (this.pending.length + this.inFlight >= this.capacity) {
      this.dropped++
      // One line per burst, not one per shed record: the log must not become the next flood.
      if (this.droppedSinceLog++ === 0) this.log.warn({ capacity: this.capacity }, 'audit queue full: shedding records of denied requests')
      return
    }
    this.pending.push(storable(event))
    if (this.pending.length >= MAX_BATCH) void this.flush()
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS)
      this.timer.unref()
    }
  }

  stats(): AuditStats {
    return { queued: this.pending.length + this.inFlight, dropped: this.dropped, failed: this.failed }
  }

  /** Writes everything recorded so far; resolves when it is in the database (or counted as lost). */
  flush(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.pending
    this.pending = []
    this.inFlight += batch.length
    this.writing = this.writing.then(async () => {
      if (batch.length === 0) return
      try {
        await this.write(batch)
      } finally {
        this.inFlight -= batch.length
        if (this.droppedSinceLog > 0) {
          this.log.warn({ dropped: this.droppedSinceLog, droppedTotal: this.dropped }, 'audit records shed while the queue was full')
          this.droppedSinceLog = 0
        }
      }
    })
    return this.writing
  }

  private async write(batch: AuditRecord[]): Promise<void> {
    try {
      await this.db.auditEvent.createMany({ data: batch })
      return
    } catch (error) {
      if (batch.length === 1) {
        this.lost(batch[0]!, error)
        return
      }
      this.log.warn({ err: error, rows: batch.length }, 'audit batch refused; writing its rows one by one')
    }
    for (const row of batch) {
      try {
        await this.db.auditEvent.create({ data: row })
      } catch (error) {
        this.lost(row, error)
      }
    }
  }

  private lost(row: AuditRecord, error: unknown): void {
    this.failed++
    const { kind, userId, action, subject, objectId, ruleId, requestId, status } = row
    this.log.error(
      { err: error, record: { kind, userId, action, subject, objectId, ruleId, requestId, status }, failedTotal: this.failed },
      'could not write an audit record of a denied request',
    )
  }
}

/** The record as the table can hold it: text within its column, no NUL (PostgreSQL refuses it), `detail` bounded. */
export function storable(event: AuditRecord): AuditRecord {
  const out: AuditRecord = { ...event }
  for (const [column, width] of Object.entries(COLUMN_WIDTH) as Array<[keyof typeof COLUMN_WIDTH, number]>) {
    const value = out[column]
    if (typeof value === 'string') out[column] = clean(value, width)
  }
  if (out.detail !== undefined) out.detail = boundedJson(out.detail, 3) as Prisma.InputJsonValue
  return out
}

function clean(text: string, max: number): string {
  const plain = text.replaceAll('\u0000', '')
  return plain.length <= max ? plain : `${plain.slice(0, max - 1)}…`
}

/** Strings cut to MAX_DETAIL_TEXT, NUL removed (JSONB refuses `\u0000`), at most `depth` levels and 50 entries per level. */
function boundedJson(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return clean(value, MAX_DETAIL_TEXT)
  if (value === null || typeof value !== 'object') return typeof value === 'number' && !Number.isFinite(value) ? null : value
  if (depth === 0) return '…'
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => boundedJson(item, depth - 1))
  return Object.fromEntries(
    Object.entries(value)
      .slice(0, 50)
      .map(([key, item]) => [clean(key, 100), boundedJson(item, depth - 1)]),
  )
}
