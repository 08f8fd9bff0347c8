// Failed logins are counted per username and client address: after `max` failures within the
// window that pair gets 429 until the window ends, while the same user from elsewhere, and
// everyone else, can still log in. Kept in memory, per instance.

const MAX_TRACKED = 100_000

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; resetAt: number }>()

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  private key(username: string, ip: string): string {
    return `${username.toLowerCase()}\u0000${ip}`
  }

  /** Seconds until this pair may try again, or 0 when it may try now. */
  retryAfter(username: string, ip: string, now = Date.now()): number {
    const entry = this.failures.get(this.key(username, ip))
    if (!entry || entry.resetAt <= now || entry.count < this.max) return 0
    return Math.ceil((entry.resetAt - now) / 1000)
  }

  fail(username: string, ip: string, now = Date.now()): void {
    const key = this.key(username, ip)
    const entry = this.failures.get(key)
    if (entry && entry.resetAt > now) {
      entry.count++
      return
    }
    if (this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!)
    this.failures.set(key, { count: 1, resetAt: now + this.windowMs })
  }

  succeed(username: string, ip: string): void {
    this.failures.delete(this.key(username, ip))
  }
}
