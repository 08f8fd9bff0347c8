import type { CompiledRules } from '../authz/compiled-rules.ts'
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'
import { ROLES } from '../shared/roles.ts'

/**
 * Why activating `policy` would lock everyone out of policy or user management, if it would.
 * A database where nobody can already (no admin yet) is not locked by the change.
 */
export async function lockoutReason(
  db: PrismaClient | Prisma.TransactionClient,
  policy: CompiledRules,
  active?: CompiledRules,
): Promise<string | null> {
  const reason = await managementGap(db, policy)
  if (reason && active && (await managementGap(db, active))) return null
  return reason
}

async function managementGap(db: PrismaClient | Prisma.TransactionClient, policy: CompiledRules): Promise<string | null> {
  for (const [what, action, subject] of [
    ['manage policies', 'create', 'PolicyVersion'],
    ['manage users', 'update', 'User'],
  ] as const) {
    const roles = ROLES.filter((role) => policy.abilityFor({ id: 0, username: '', role }).can(action, subject))
    if (roles.length === 0) return `No role could ${what} any more (no rule allows ${action} on ${subject}).`
    if ((await db.user.count({ where: { role: { in: [...roles] } } })) === 0) {
      return `Nobody could ${what} any more: no user holds ${roles.map((r) => `"${r}"`).join(' or ')}.`
    }
  }
  return null
}
