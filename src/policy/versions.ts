import type { FastifyBaseLogger } from 'fastify'
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'
import type { CompiledRules } from '../authz/compiled-rules.ts'
import type { Notifications } from '../db/notifications.ts'
import { toDocument, type DecisionRowData, type RoleRule, type RuleSet } from '../shared/rule-format.ts'
import { rowsFromData, type DecisionRow } from './decision-table.ts'
import { compileRules } from './validate.ts'

// The versions of the policy live in the database; the newest is active. Every instance keeps a
// compiled copy of it and swaps it atomically when a newer version appears: at once on the
// instance that activated it, within a second elsewhere (PostgreSQL LISTEN/NOTIFY), and by a
// periodic version check should a notification be missed.

const POLICY_CHANNEL = 'policy_changed'

/** A version of the policy: its rules as written, compiled, and the decision table they pass. */
export interface PolicyVersion {
  version: number
  compiled: CompiledRules
  rules: RoleRule[]
  table: DecisionRow[]
}

export interface Author {
  id: number | null
  username: string
}

export class VersionConflictError extends Error {
  constructor(readonly current: number) {
    super(`the active policy version is ${current}`)
  }
}

type Db = PrismaClient | Prisma.TransactionClient

function compileVersion(row: { version: number; rules: unknown; table: unknown }): PolicyVersion {
  const rules = row.rules as RoleRule[]
  return {
    version: row.version,
    compiled: compileRules(toDocument(rules), row.version),
    rules,
    table: rowsFromData(row.table as DecisionRowData[]),
  }
}

/** Rules and tables are plain JSON data, stored as JSONB. */
const json = (value: unknown) => value as Prisma.InputJsonValue

export class PolicyStore {
  private active: PolicyVersion
  private poller?: NodeJS.Timeout

  private constructor(
    private readonly db: PrismaClient,
    active: PolicyVersion,
    private readonly log?: FastifyBaseLogger,
  ) {
    this.active = active
  }

  /** Loads the active version; on a database without one, `seed` becomes version 1. */
  static async open(db: PrismaClient, seed: () => RuleSet, log?: FastifyBaseLogger): Promise<PolicyStore> {
    let newest = await db.policyVersion.findFirst({ orderBy: { version: 'desc' } })
    if (!newest) {
      const initial = seed()
      // Validate before writing, so an invalid seed never becomes a version.
      compileVersion({ version: 1, ...initial })
      try {
        newest = await db.policyVersion.create({
          data: {
            version: 1,
            rules: json(initial.rules),
            table: json(initial.table),
            author: 'system',
            message: 'Initial version, imported from policies/',
          },
        })
      } catch (error) {
        // Another instance seeded first.
        if ((error as { code?: string }).code !== 'P2002') throw error
        newest = (await db.policyVersion.findFirst({ orderBy: { version: 'desc' } }))!
      }
    }
    return new PolicyStore(db, compileVersion(newest), log)
  }

  /** The active version; a request reads it once and keeps that object to the end. */
  get snapshot(): PolicyVersion {
    return this.active
  }

  get current(): CompiledRules {
    return this.active.compiled
  }

  /**
   * Writes `next` (compiled as version `basedOn + 1`) and makes it active. Two admins who start
   * from the same version cannot both succeed: the version number is the primary key.
   */
  async activate(
    next: RuleSet & { compiled: CompiledRules },
    basedOn: number,
    author: Author,
    message: string,
    audit: (tx: Db, version: number) => Promise<void>,
  ): Promise<PolicyVersion> {
    if (next.compiled.version !== basedOn + 1) throw new Error(`compiled as version ${next.compiled.version}, activated as ${basedOn + 1}`)
    const compiled: PolicyVersion = { version: basedOn + 1, compiled: next.compiled, rules: next.rules, table: rowsFromData(next.table) }
    try {
      await this.db.$transaction(async (tx) => {
        const newest = await tx.policyVersion.findFirst({ orderBy: { version: 'desc' }, select: { version: true } })
        if (newest?.version !== basedOn) throw new VersionConflictError(newest?.version ?? 0)
        await tx.policyVersion.create({
          data: {
            version: basedOn + 1,
            rules: json(next.rules),
            table: json(next.table),
            author: author.username,
            authorId: author.id,
            message,
          },
        })
        await audit(tx, basedOn + 1)
        // Delivered to every listening instance when this transaction commits.
        await tx.$executeRaw`SELECT pg_notify(${POLICY_CHANNEL}, ${String(basedOn + 1)})`
      })
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') throw new VersionConflictError(await this.newestVersion())
      throw error
    }
    this.swap(compiled)
    return compiled
  }

  async newestVersion(): Promise<number> {
    const newest = await this.db.policyVersion.findFirst({ orderBy: { version: 'desc' }, select: { version: true } })
    return newest?.version ?? 0
  }

  /** Loads and activates the newest version if it is newer than the one held. */
  async refresh(): Promise<boolean> {
    const newest = await this.db.policyVersion.findFirst({ where: { version: { gt: this.active.version } }, orderBy: { version: 'desc' } })
    if (!newest) return false
    this.swap(compileVersion(newest))
    return true
  }

  private swap(next: PolicyVersion): void {
    // Never go back: a late notification or a slow refresh must not undo a newer activation.
    if (next.version <= this.active.version) return
    this.active = next
    this.log?.info({ policyVersion: next.version }, 'policy version activated')
  }

  /** Follow activations made by other instances on the same PostgreSQL. */
  async follow(notifications: Notifications, pollMs = 5000): Promise<void> {
    const poll = () => {
      this.refresh().catch((error: unknown) => this.log?.warn({ err: error }, 'policy version check failed'))
    }
    this.poller = setInterval(poll, pollMs)
    this.poller.unref()
    // On (re)connection, catch up on anything activated while not listening.
    await notifications.listen(POLICY_CHANNEL, { notify: poll, listening: poll })
  }

  async close(): Promise<void> {
    if (this.poller) clearInterval(this.poller)
  }
}
