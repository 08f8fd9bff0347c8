import type { Blocked } from '../../auth/login-guard.ts'
import type { Count } from '../../auth/rate-limit.ts'
import { HttpProblem } from '../../http/problem.ts'

/** 429 with Retry-After: the seconds until the window that is full ends. */
export function tooMany(slug: string, what: string, { retryAfter }: Count): HttpProblem {
  return new HttpProblem(429, slug, `${what}; try again in ${retryAfter} s.`, {}, { 'retry-after': String(retryAfter) })
}

export function tooManyLoginFailures(blocked: Blocked): HttpProblem {
  const whose = blocked.scope === 'account' ? 'for this username from your address' : 'from your address'
  return tooMany('too-many-login-failures', `Too many failed logins ${whose}`, blocked)
}
