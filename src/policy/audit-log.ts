import type { FastifyBaseLogger } from 'fastify'
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'

// Denied requests are recorded in batches: one INSERT per batch instead of one per refusal, so a
// flood of refused requests (a BOLA scan) costs the database little. A batch is written within
// FLUSH_MS, and before anything reads the log or the server stops.

const FLUSH_MS = 200
const MAX_BATCH = 500

export class AuditLog {
  private pending: Prisma.AuditEventCreateManyInput[] = []
  private timer?: NodeJS.Timeout
  private writing: Promise<void> = Promise.resolve()

  constructor(
    private readonly db: PrismaClient,
    private readonly log: FastifyBaseLogger,
  ) {}

  record(event: Prisma.AuditEventCreateManyInput): void {
    this.pending.push(event)
    if (this.pending.length >= MAX_BATCH) void this.flush()
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS)
      this.timer.unref()
    }
  }

  /** Writes everything recorded so far; resolves when it is in the database. */
  flush(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.pending
    this.pending = []
    this.writing = this.writing.then(async () => {
      if (batch.length === 0) return
      try {
        await this.db.auditEvent.createMany({ data: batch })
      } catch (error) {
        this.log.error({ err: error, lost: batch.length }, 'could not write audit records of denied requests')
      }
    })
    return this.writing
  }
}
