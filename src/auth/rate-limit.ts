import { Prisma, type PrismaClient } from '../generated/prisma/client.ts'

// Attempt counters in the database, so every instance on it counts together. A key's window
// starts at its first attempt and lasts `windowSeconds`; an attempt after the window starts a
// new one. Counting is one upsert per attempt, atomic, so concurrent attempts cannot slip past
// the limit between a read and a write. Times come from the database's clock, the one clock
// every instance shares.

export interface Count {
  count: number
  /** Whole seconds until the key's window ends (at least 1). */
  retryAfter: number
}

const CLEANUP_EVERY_MS = 60_000

export class RateLimiter {
  private lastCleanup = 0

  constructor(private readonly db: PrismaClient) {}

  /** Counts one attempt on each key and answers each key's count in its current window. */
  async hit(keys: string[], windowSeconds: number): Promise<Map<string, Count>> {
    await this.cleanup()
    const rows = await this.db.$queryRaw<Array<{ key: string; count: number; retryAfter: number }>>(Prisma.sql`
      INSERT INTO rate_limits AS r (key, count, expires_at)
      SELECT k, 1, clock_timestamp() + make_interval(secs => ${windowSeconds}::int)
      FROM unnest(${keys}::text[]) AS k
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN r.expires_at <= clock_timestamp() THEN 1 ELSE r.count + 1 END,
        expires_at = CASE WHEN r.expires_at <= clock_timestamp() THEN excluded.expires_at ELSE r.expires_at END
      RETURNING key, count, GREATEST(1, CEIL(EXTRACT(EPOCH FROM (expires_at - clock_timestamp()))))::int AS "retryAfter"`)
    return new Map(rows.map((row) => [row.key, { count: row.count, retryAfter: row.retryAfter }]))
  }

  /** Takes back one attempt on each of `keys` (it should not count), and forgets `reset` keys altogether. */
  async release(keys: string[], reset: string[] = []): Promise<void> {
    await this.db.$executeRaw(Prisma.sql`
      WITH forgotten AS (DELETE FROM rate_limits WHERE key = ANY(${reset}::text[]))
      UPDATE rate_limits SET count = count - 1 WHERE key = ANY(${keys}::text[]) AND count > 0`)
  }

  /** Drops windows that have ended, at most once a minute per instance. */
  private async cleanup(): Promise<void> {
    const now = Date.now()
    if (now - this.lastCleanup < CLEANUP_EVERY_MS) return
    this.lastCleanup = now
    await this.db.$executeRaw`DELETE FROM rate_limits WHERE expires_at <= clock_timestamp()`
  }
}

/** The first key of `keys` whose count is over its limit, or undefined. */
export function overLimit(counts: Map<string, Count>, limits: Array<[key: string, max: number]>): Count | undefined {
  for (const [key, max] of limits) {
    const count = counts.get(key)
    if (count && count.count > max) return count
  }
  return undefined
}
