import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'
import { hashPassword, needsRehash, verifyPassword, decoyHash, type ScryptCost } from './password.ts'

// One account per username whatever its case or Unicode form: names are stored NFKC-normalised
// and compared lower-case, which a unique index on lower(username) enforces in the database.

type Db = PrismaClient | Prisma.TransactionClient

export function normalizeUsername(username: string): string {
  return username.normalize('NFKC')
}

/** The form two usernames are compared in. */
export function usernameKey(username: string): string {
  return normalizeUsername(username).toLowerCase()
}

export interface StoredAccount {
  id: number
  username: string
  role: string
  passwordHash: string
  sessionVersion: number
}

/** The account `username` names, in any case. */
export async function findAccount(db: Db, username: string): Promise<StoredAccount | undefined> {
  // Prisma's case-insensitive `equals` is an ILIKE, where `_` (valid in usernames) is a wildcard.
  const rows = await db.$queryRaw<StoredAccount[]>`
    SELECT id, username, role, password_hash AS "passwordHash", session_version AS "sessionVersion" FROM users WHERE lower(username) = ${usernameKey(username)}`
  return rows[0]
}

/**
 * The account if `password` is its password, hashing as long for an unknown username (the answer
 * time must not tell which usernames exist). A hash made with other parameters than `cost` is
 * replaced by one made with `cost`, now that the password is known.
 */
export async function checkCredentials(db: Db, username: string, password: string, cost: ScryptCost): Promise<StoredAccount | undefined> {
  const account = await findAccount(db, username)
  const valid = await verifyPassword(password, account?.passwordHash ?? (await decoyHash(cost)))
  if (!account || !valid) return undefined
  if (needsRehash(account.passwordHash, cost)) {
    const passwordHash = await hashPassword(password, cost)
    // Only if no one changed the password meanwhile.
    await db.user.updateMany({ where: { id: account.id, passwordHash: account.passwordHash }, data: { passwordHash } })
    account.passwordHash = passwordHash
  }
  return account
}
