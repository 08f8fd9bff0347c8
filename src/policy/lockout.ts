import type { CompiledRules } from '../authz/compiled-rules.ts'
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'
import { ROLES } from '../shared/roles.ts'

type Db = PrismaClient | Prisma.TransactionClient

/** One user's new role, or (`role: null`) their deletion. */
export interface UserChange {
  userId: number
  role: string | null
}

/**
 * Why activating `policy` would lock everyone out of policy or user management, if it would.
 * A database where nobody can already (no admin yet) is not locked by the change.
 */
export async function lockoutReason(db: Db, policy: CompiledRules, active?: CompiledRules): Promise<string | null> {
  const reason = await managementGap(db, policy)
  if (reason && active && (await managementGap(db, active))) return null
  return reason
}

// Any fixed number: the key of the lock that serialises changes of who holds which role.
const USER_CHANGES_LOCK = 726_351_001

/**
 * Why `change` would leave nobody under `policy` able to manage policies or users, if it would.
 * Run it in the change's transaction: it takes a lock that serialises such changes until the
 * transaction ends, so two admins demoting each other at once cannot both succeed.
 */
export async function userChangeLockout(tx: Prisma.TransactionClient, policy: CompiledRules, change: UserChange): Promise<string | null> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(${USER_CHANGES_LOCK})::text AS locked`
  const reason = await managementGap(tx, policy, change)
  if (reason && (await managementGap(tx, policy))) return null
  return reason
}

async function managementGap(db: Db, policy: CompiledRules, change?: UserChange): Promise<string | null> {
  for (const [what, action, subject] of [
    ['manage policies', 'create', 'PolicyVersion'],
    ['manage users', 'update', 'User'],
  ] as const) {
    const roles: string[] = ROLES.filter((role) => policy.abilityFor({ id: 0, username: '', role }).can(action, subject))
    if (roles.length === 0) return `No role could ${what} any more (no rule allows ${action} on ${subject}).`
    const others = await db.user.count({ where: { role: { in: roles }, ...(change ? { id: { not: change.userId } } : {}) } })
    const changed = change?.role != null && roles.includes(change.role) ? 1 : 0
    if (others + changed === 0) {
      return `Nobody could ${what} any more: no ${change ? 'other ' : ''}user holds ${roles.map((r) => `"${r}"`).join(' or ')}.`
    }
  }
  return null
}
