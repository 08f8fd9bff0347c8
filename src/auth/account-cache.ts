import type { Notifications } from '../db/notifications.ts'

// The accounts of recent callers, kept in memory so that authenticating a request does not read
// the users table each time, with the same guarantee as reading it: a request sees every change
// to its caller's account (role, username, deletion, revoked sessions) committed before it began,
// whichever instance or tool made the change.
//
// - A trigger on users (prisma/migrations/*_account_change_notify) notifies ACCOUNT_CHANNEL with
//   the user's id when such a change commits; the entry is dropped on the notification.
// - A hit is served only after `Notifications.sync()`: every notification committed before the
//   request began has then been handled, so a changed account is no longer here. Concurrent
//   requests share that round trip, an empty query on the listening connection.
// - While not listening (starting, connection lost, reconnecting) the cache is empty and every
//   request reads the database; on (re)connection it starts empty again.
// - A row read from the database is kept only if no notification for its user (and no loss of the
//   connection) came while it was being read: a read that began before a change and ended after
//   its notification must not put the old row back.

export const ACCOUNT_CHANNEL = 'account_changed'

export interface CachedAccount {
  id: number
  username: string
  role: string
  sessionVersion: number
}

export interface AccountCacheStats {
  /** Listening for account changes: entries may be served. */
  following: boolean
  entries: number
  hits: number
  /** Read from the database while following, then kept. */
  misses: number
  /** Read from the database because the cache could not vouch for itself (not listening, no round trip). */
  bypassed: number
  /** Notifications of changed accounts, and changes this instance made itself. */
  invalidations: number
}

/** A read of one account under way; `stale` once the account may have changed since it began. */
interface Read {
  id: number
  stale: boolean
}

export class AccountCache {
  /** In order of last use: the first is the first to evict. */
  private readonly entries = new Map<number, CachedAccount>()
  private readonly reads = new Set<Read>()
  private notifications?: Notifications
  private following = false
  private hits = 0
  private misses = 0
  private bypassed = 0
  private invalidations = 0

  /** `maxEntries` 0: no cache, every request reads the database. */
  constructor(
    private readonly load: (id: number) => Promise<CachedAccount | null>,
    private readonly maxEntries = 10_000,
  ) {}

  async follow(notifications: Notifications): Promise<void> {
    if (this.maxEntries === 0) return
    this.notifications = notifications
    await notifications.listen(ACCOUNT_CHANNEL, {
      notify: (payload) => {
        const id = Number(payload)
        // '*': every account (TRUNCATE); anything unexpected is treated the same way.
        if (Number.isSafeInteger(id) && payload !== '') {
          this.forget(id)
        } else {
          this.invalidations++
          this.clear()
        }
      },
      listening: () => {
        this.clear()
        this.following = true
      },
      deaf: () => {
        this.following = false
        this.clear()
      },
    })
  }

  /** The account as stored now, null if there is none. */
  async get(id: number): Promise<CachedAccount | null> {
    if (!this.following || !this.notifications) return this.bypass(id)
    if (this.entries.has(id)) {
      try {
        await this.notifications.sync()
      } catch {
        return this.bypass(id)
      }
      // Gone if notified meanwhile, or if the connection was lost (everything goes then).
      const cached = this.entries.get(id)
      if (cached) {
        this.hits++
        this.entries.delete(id)
        this.entries.set(id, cached)
        return cached
      }
    }
    this.misses++
    const read: Read = { id, stale: false }
    this.reads.add(read)
    let account: CachedAccount | null
    try {
      account = await this.load(id)
    } finally {
      this.reads.delete(read)
    }
    // A lost connection marks every read under way stale too.
    if (account && !read.stale) this.keep(account)
    return account
  }

  /** The account `id` changed (or may have): its entry goes, and reads under way are not kept. */
  forget(id: number): void {
    this.invalidations++
    this.entries.delete(id)
    for (const read of this.reads) if (read.id === id) read.stale = true
  }

  stats(): AccountCacheStats {
    return {
      following: this.following,
      entries: this.entries.size,
      hits: this.hits,
      misses: this.misses,
      bypassed: this.bypassed,
      invalidations: this.invalidations,
    }
  }

  private bypass(id: number): Promise<CachedAccount | null> {
    this.bypassed++
    return this.load(id)
  }

  private clear(): void {
    this.entries.clear()
    for (const read of this.reads) read.stale = true
  }

  private keep(account: CachedAccount): void {
    this.entries.delete(account.id)
    this.entries.set(account.id, account)
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
  }
}
