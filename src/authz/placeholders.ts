import type { ScalarType } from './data-model.ts'

/** What a rule may refer to about the user a request runs for, e.g. `"${user.id}"`. */
export interface PolicyUser {
  id: number
  username: string
  role: string
}

export const PLACEHOLDERS: Record<string, { type: ScalarType; value: (user: PolicyUser) => string | number }> = {
  'user.id': { type: 'Int', value: (user) => user.id },
  'user.username': { type: 'String', value: (user) => user.username },
  'user.role': { type: 'String', value: (user) => user.role },
}

const PLACEHOLDER = /\$\{([^}]*)\}/g
const WHOLE_PLACEHOLDER = /^\$\{([^}]*)\}$/

export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((match) => match[1]!)
}

/** The type a string stands for: a lone placeholder keeps its own type, anything else is a String. */
export function placeholderType(text: string): ScalarType | undefined {
  const whole = WHOLE_PLACEHOLDER.exec(text)
  return whole ? PLACEHOLDERS[whole[1]!]?.type : undefined
}

export function containsPlaceholder(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${')
  if (Array.isArray(value)) return value.some(containsPlaceholder)
  if (value && typeof value === 'object') return Object.values(value).some(containsPlaceholder)
  return false
}

/** Replaces placeholders; a string that is a lone placeholder takes the value's own type. */
export function interpolate<T>(value: T, user: PolicyUser): T {
  if (typeof value === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(value)
    if (whole) return PLACEHOLDERS[whole[1]!]!.value(user) as T
    return value.replace(PLACEHOLDER, (_, name: string) => String(PLACEHOLDERS[name]!.value(user))) as T
  }
  if (Array.isArray(value)) return (value as unknown[]).map((item) => interpolate(item, user)) as T
  // Compiled rules hold DateTime values as Dates: copying one key by key would leave `{}`.
  if (value instanceof Date) return value
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = interpolate(item, user)
    return out as T
  }
  return value
}
