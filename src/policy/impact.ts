import type { CompiledRules } from '../authz/compiled-rules.ts'
import type { PrismaClient } from '../generated/prisma/client.ts'
import { ROLES } from '../shared/roles.ts'

// What a change of rules does to live data: for each role, how many Projects and Tasks become
// visible or hidden, writable or read-only.

const IMPACT_SUBJECTS = ['Project', 'Task'] as const
const IMPACT_ACTIONS = { visible: 'read', writable: 'update' } as const
/**
 * Users of a role whose rules name the user are considered one by one, up to this many (lowest
 * ids first): each costs two counts over the table, so the report stays fast on large data.
 */
const IMPACT_USER_SAMPLE = 10
const EXAMPLES = 3

export interface Change {
  /** Rows that become visible (or writable), summed over the considered users. */
  gained: number
  /** Rows that stop being visible (or writable), summed over the considered users. */
  lost: number
  /** A few of them, for the first considered user concerned. */
  gainedExamples: number[]
  lostExamples: number[]
}

export interface RoleImpact {
  role: string
  /** `role`: the rules do not depend on the user, counts hold for everyone with the role. */
  scope: 'role' | 'per-user'
  usersWithRole: number
  usersConsidered: number
  Project: { visible: Change; writable: Change }
  Task: { visible: Change; writable: Change }
}

type CountDelegate = {
  count(args: { where: object }): Promise<number>
  findMany(args: { where: object; select: { id: true }; take: number; orderBy: { id: 'asc' } }): Promise<Array<{ id: number }>>
}

async function changeFor(db: PrismaClient, subject: string, pairs: Array<{ before: object; after: object }>): Promise<Change> {
  const change: Change = { gained: 0, lost: 0, gainedExamples: [], lostExamples: [] }
  const changed = pairs.filter(({ before, after }) => JSON.stringify(before) !== JSON.stringify(after))
  const delegate = (db as unknown as Record<string, CountDelegate>)[subject.toLowerCase()]!
  // A few users at a time: the pool is shared with live traffic.
  await eachLimited([...changed.entries()], 4, async ([index, { before, after }]) => {
    const gainedWhere = { AND: [after, { NOT: before }] }
    const lostWhere = { AND: [before, { NOT: after }] }
    const examples = index === 0
    const [gained, lost, gainedRows, lostRows] = await Promise.all([
      delegate.count({ where: gainedWhere }),
      delegate.count({ where: lostWhere }),
      examples ? delegate.findMany({ where: gainedWhere, select: { id: true }, take: EXAMPLES, orderBy: { id: 'asc' } }) : [],
      examples ? delegate.findMany({ where: lostWhere, select: { id: true }, take: EXAMPLES, orderBy: { id: 'asc' } }) : [],
    ])
    change.gained += gained
    change.lost += lost
    if (examples) {
      change.gainedExamples = gainedRows.map((r) => r.id)
      change.lostExamples = lostRows.map((r) => r.id)
    }
  })
  return change
}

async function eachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await run(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/**
 * For each role, how many live Projects and Tasks become visible or hidden, writable or
 * read-only, counted in SQL with the two policies' accessibleBy filters (never by loading rows).
 */
export async function impactOf(db: PrismaClient, before: CompiledRules, after: CompiledRules): Promise<RoleImpact[]> {
  return Promise.all(
    ROLES.map(async (role) => {
      const personal = before.isPersonal(role) || after.isPersonal(role)
      const [usersWithRole, users] = await Promise.all([
        db.user.count({ where: { role } }),
        personal
          ? db.user.findMany({
              where: { role },
              select: { id: true, username: true, role: true },
              orderBy: { id: 'asc' },
              take: IMPACT_USER_SAMPLE,
            })
          : Promise.resolve([{ id: 0, username: '', role }]),
      ])
      const abilities = users.map((user) => ({ old: before.abilityFor(user), next: after.abilityFor(user) }))
      const changeOf = (subject: string, action: string) =>
        changeFor(
          db,
          subject,
          abilities.map(({ old, next }) => ({
            before: before.filterFor(old, action, subject),
            after: after.filterFor(next, action, subject),
          })),
        )
      const [pv, pw, tv, tw] = await Promise.all(
        IMPACT_SUBJECTS.flatMap((subject) => [changeOf(subject, IMPACT_ACTIONS.visible), changeOf(subject, IMPACT_ACTIONS.writable)]),
      )
      return {
        role,
        scope: personal ? ('per-user' as const) : ('role' as const),
        usersWithRole,
        usersConsidered: personal ? users.length : usersWithRole,
        Project: { visible: pv!, writable: pw! },
        Task: { visible: tv!, writable: tw! },
      }
    }),
  )
}
