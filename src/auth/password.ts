import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

// scrypt (memory-hard) with a per-password salt, stored as `scrypt$N$r$p$salt$hash`: each hash
// keeps its own parameters, so the cost can be raised and older hashes still verify (and are
// replaced on the holder's next successful login, see `needsRehash`).

export interface ScryptCost {
  N: number
  r: number
  p: number
}

/** OWASP Password Storage Cheat Sheet: N=2^17, r=8, p=1 (128 MiB per hash). */
export const OWASP_COST: ScryptCost = { N: 2 ** 17, r: 8, p: 1 }

const KEY_LENGTH = 32
/** Refuses stored parameters that would take more memory than the strongest cost we would set. */
const MAX_N = 2 ** 20

function derive(password: string, salt: Buffer, { N, r, p }: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r }, (error, key) =>
      error ? reject(error) : resolve(key),
    )
  })
}

export async function hashPassword(password: string, cost: ScryptCost = OWASP_COST): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, cost)
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$')
}

interface Parsed {
  cost: ScryptCost
  salt: Buffer
  hash: Buffer
}

function parse(stored: string): Parsed | undefined {
  const [scheme, N, r, p, salt, hash] = stored.split('$')
  const cost = { N: Number(N), r: Number(r), p: Number(p) }
  if (scheme !== 'scrypt' || !salt || !hash) return undefined
  if (![cost.N, cost.r, cost.p].every(Number.isSafeInteger) || cost.N > MAX_N || cost.r > 32 || cost.p > 16) return undefined
  return { cost, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') }
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored)
  if (!parsed) return false
  const actual = await derive(password, parsed.salt, parsed.cost)
  return actual.length === parsed.hash.length && timingSafeEqual(actual, parsed.hash)
}

/** Whether `stored` was made with other parameters than `cost` (weaker ones, as a rule). */
export function needsRehash(stored: string, cost: ScryptCost): boolean {
  const parsed = parse(stored)
  return !parsed || parsed.cost.N !== cost.N || parsed.cost.r !== cost.r || parsed.cost.p !== cost.p
}

// Verified against when the username is unknown, so a login takes as long either way.
const decoys = new Map<string, Promise<string>>()
export function decoyHash(cost: ScryptCost = OWASP_COST): Promise<string> {
  const key = `${cost.N}$${cost.r}$${cost.p}`
  let decoy = decoys.get(key)
  if (!decoy) {
    decoy = hashPassword(randomBytes(16).toString('hex'), cost)
    decoys.set(key, decoy)
  }
  return decoy
}
