import pg from 'pg'
import type { PGlite } from '@electric-sql/pglite'

// PostgreSQL LISTEN/NOTIFY for the whole process: the parts of the server that follow a channel
// (policy versions, accounts) share one listening connection, which reconnects after a loss and
// tells them when they may have missed notifications.

export interface NotificationLog {
  warn(details: object, message: string): void
}

/** What follows a channel. */
export interface ChannelFollower {
  /** A notification on the channel, with its payload. */
  notify(payload: string): void
  /** Listening (again): anything notified before now may have been missed. */
  listening?(): void
  /** No longer listening: notifications may be missed until `listening` is called again. */
  deaf?(): void
}

export interface Notifications {
  /** Follows `channel`; resolves once the first attempt to listen is over (retries go on in the background). */
  listen(channel: string, follower: ChannelFollower): Promise<void>
  /**
   * Resolves once every notification committed before the call has been handed to its followers;
   * rejects when that cannot be known (not listening, connection lost, no answer in time).
   */
  sync(): Promise<void>
  close(): Promise<void>
}

/** How the listening connection shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'api-notifications'
const RETRY_MS = 1000
/** A listening connection that does not answer a round trip in this time is treated as lost. */
const SYNC_TIMEOUT_MS = 2000

function checkChannel(channel: string): void {
  // Channels are written into LISTEN statements.
  if (!/^[a-z_]+$/.test(channel)) throw new Error(`invalid channel name "${channel}"`)
}

class NotListeningError extends Error {
  constructor() {
    super('not listening for notifications')
  }
}

/**
 * One connection of its own to PostgreSQL, listening on every followed channel.
 *
 * `sync()` is an empty query on that connection. PostgreSQL signals every listening backend while
 * committing a transaction that notified, before the committing client gets its answer; a
 * listening backend that has been signalled sends the notifications ahead of the ReadyForQuery
 * that ends its next command (postgres.c processes pending notifies before ReadyForQuery), and
 * `pg` emits a notification as it parses it, before it settles the query. So once an empty query
 * sent after a commit has answered, that commit's notifications have been delivered. Concurrent
 * callers share round trips: at most one is under way and one waits to be sent after it.
 */
export class PostgresNotifications implements Notifications {
  private readonly followers = new Map<string, ChannelFollower[]>()
  /** Connected, and listening on `listened`. */
  private client?: pg.Client
  private listened = new Set<string>()
  private connecting?: Promise<void>
  private trip?: Promise<void>
  private nextTrip?: Promise<void>
  private closed = false

  constructor(
    private readonly connectionString: string,
    private readonly log?: NotificationLog,
  ) {}

  async listen(channel: string, follower: ChannelFollower): Promise<void> {
    checkChannel(channel)
    const known = this.followers.get(channel)
    if (known) known.push(follower)
    else this.followers.set(channel, [follower])
    const client = this.client
    if (client) {
      if (!this.listened.has(channel)) {
        try {
          await client.query(`LISTEN ${channel}`)
        } catch {
          // The connection is lost: its 'error' reconnects, listening on every channel.
          return
        }
        if (this.client !== client) return
        this.listened.add(channel)
      }
      follower.listening?.()
      return
    }
    // A connection under way listens on every channel followed by the time it is ready.
    this.connecting ??= this.connect()
    await this.connecting
  }

  sync(): Promise<void> {
    if (!this.client) return Promise.reject(new NotListeningError())
    if (!this.trip) return this.startTrip(this.client)
    // The round trip under way may have been sent before this call, so it proves nothing about
    // commits since; the next one, sent once it is back, does.
    this.nextTrip ??= this.trip
      .then(
        () => {},
        () => {},
      )
      .then(() => {
        this.nextTrip = undefined
        // A trip started meanwhile was sent after every caller waiting here.
        if (this.trip) return this.trip
        return this.client ? this.startTrip(this.client) : Promise.reject(new NotListeningError())
      })
    return this.nextTrip
  }

  async close(): Promise<void> {
    this.closed = true
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }

  private startTrip(client: pg.Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const trip = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error('the notification listener did not answer in time'))
        this.lost(client, new Error(`no answer to a round trip within ${SYNC_TIMEOUT_MS} ms`))
      }, SYNC_TIMEOUT_MS)
      client.query('').then(() => {
        resolve()
      }, reject)
    }).finally(() => {
      clearTimeout(timer)
      if (this.trip === trip) this.trip = undefined
    })
    this.trip = trip
    return trip
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    })
    client.on('notification', (message) => {
      this.deliver(message.channel, message.payload ?? '')
    })
    // Both may come for one loss; `lost` acts once, and only for the current connection.
    client.on('error', (error) => {
      this.lost(client, error)
    })
    client.on('end', () => {
      this.lost(client, new Error('the connection ended'))
    })
    try {
      await client.connect()
      const listened = new Set<string>()
      // Channels followed while a LISTEN was under way are listened to before going live.
      for (;;) {
        const pending = [...this.followers.keys()].filter((channel) => !listened.has(channel))
        if (!pending.length) break
        await client.query(pending.map((channel) => `LISTEN ${channel}`).join('; '))
        for (const channel of pending) listened.add(channel)
      }
      if (this.closed) {
        await client.end().catch(() => {})
        return
      }
      this.client = client
      this.listened = listened
      for (const followers of this.followers.values()) for (const follower of followers) follower.listening?.()
    } catch (error) {
      this.log?.warn({ err: error }, 'notification listener could not connect; retrying')
      await client.end().catch(() => {})
      this.retry()
    } finally {
      this.connecting = undefined
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.client !== client) return
    this.client = undefined
    this.listened = new Set()
    this.log?.warn({ err: error }, 'notification listener lost its connection; retrying')
    for (const followers of this.followers.values()) for (const follower of followers) follower.deaf?.()
    client.end().catch(() => {})
    this.retry()
  }

  private retry(): void {
    if (this.closed) return
    setTimeout(() => {
      // connect logs its own failures and schedules the next try.
      if (!this.closed && !this.client) this.connecting ??= this.connect()
    }, RETRY_MS).unref()
  }

  private deliver(channel: string, payload: string): void {
    for (const follower of this.followers.get(channel) ?? []) {
      try {
        follower.notify(payload)
      } catch (error) {
        this.log?.warn({ err: error, channel }, 'a notification follower failed')
      }
    }
  }
}

/**
 * PGlite's own LISTEN. One process owns an embedded database, and PGlite hands a commit's
 * notifications to the listeners as it parses the commit's answer, before the committing
 * statement returns: there is nothing to wait for, and no connection to lose.
 */
export class PGliteNotifications implements Notifications {
  private readonly unlisten: Array<() => Promise<void>> = []

  constructor(private readonly pglite: PGlite) {}

  async listen(channel: string, follower: ChannelFollower): Promise<void> {
    checkChannel(channel)
    this.unlisten.push(
      await this.pglite.listen(channel, (payload) => {
        follower.notify(payload)
      }),
    )
    follower.listening?.()
  }

  sync(): Promise<void> {
    return Promise.resolve()
  }

  async close(): Promise<void> {
    for (const unlisten of this.unlisten.splice(0)) await unlisten().catch(() => {})
  }
}
