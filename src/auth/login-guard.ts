import type { PrismaClient } from '../generated/prisma/client.ts'
import type { AppConfig } from '../config.ts'
import { usernameKey } from './accounts.ts'
import { overLimit, RateLimiter, type Count } from './rate-limit.ts'

// Password guesses, wherever they are made (login, password change), are counted per username at
// a client address and per address whatever the username (password spraying). Every attempt
// counts as a failure until it succeeds, so parallel guesses are counted too; a success takes
// its attempt back and clears the username's count at that address.

export type Blocked = Count & { scope: 'account' | 'address' }

export interface Attempt {
  blocked?: Blocked
  succeeded(): Promise<void>
}

type Limits = Pick<AppConfig, 'loginMaxFailures' | 'loginMaxFailuresPerAddress' | 'loginWindowSeconds'>

/** Bounded: behind a trusted proxy the address is whatever the forwarding header said. */
export const clientAddress = (ip: string) => ip.slice(0, 100)

export class LoginGuard {
  private readonly limiter: RateLimiter

  constructor(
    db: PrismaClient,
    private readonly limits: Limits,
  ) {
    this.limiter = new RateLimiter(db)
  }

  async attempt(username: string, ip: string): Promise<Attempt> {
    const address = `login ${clientAddress(ip)}`
    const account = `login ${usernameKey(username)} ${clientAddress(ip)}`
    const counts = await this.limiter.hit([address, account], this.limits.loginWindowSeconds)
    const over = overLimit(counts, [
      [account, this.limits.loginMaxFailures],
      [address, this.limits.loginMaxFailuresPerAddress],
    ])
    return {
      blocked: over && { ...over, scope: over === counts.get(account) ? 'account' : 'address' },
      succeeded: () => this.limiter.release([address], [account]),
    }
  }
}
