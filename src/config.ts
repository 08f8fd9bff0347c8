import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { OWASP_COST, type ScryptCost } from './auth/password.ts'

/** Everything the server reads from its environment, parsed once at startup. */
export interface AppConfig {
  /** `postgresql://…` for real PostgreSQL; unset for embedded PGlite under `dataDir`. */
  databaseUrl?: string
  dataDir: string
  host: string
  port: number
  production: boolean
  jwtSecret?: string
  /** Lifetime of access tokens, in seconds. */
  tokenTtlSeconds: number
  bootstrapAdmin?: { username: string; password: string }
  logLevel: string
  policiesDir: string
  /** Origins allowed by CORS; empty: no CORS headers at all (same-origin only). */
  corsOrigins: string[]
  /** Fastify's trustProxy: false, true, a hop count, or a comma-separated list of addresses. */
  trustProxy: boolean | number | string
  /** Failed logins per username and address before 429, within `loginWindowSeconds`. */
  loginMaxFailures: number
  /** Failed logins per address, whatever the usernames (password spraying), within `loginWindowSeconds`. */
  loginMaxFailuresPerAddress: number
  loginWindowSeconds: number
  /** Registrations per address within `registerWindowSeconds`. */
  registerMaxPerAddress: number
  registerWindowSeconds: number
  /** scrypt parameters of new password hashes; older hashes are upgraded on the next login. */
  passwordCost: ScryptCost
  /** After SIGTERM, how long in-flight requests may take before the process exits anyway. */
  shutdownTimeoutSeconds: number
  /** Serve the admin console's source maps (development only). */
  consoleSourceMaps: boolean
  /** Accounts of recent callers kept in memory; 0 reads the caller's account from the database on every request. */
  accountCacheSize: number
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`)
  }
  return value
}

function trustProxy(raw: string | undefined): boolean | number | string {
  if (!raw || raw === 'false') return false
  if (raw === 'true') return true
  return /^\d+$/.test(raw) ? Number(raw) : raw
}

/**
 * Sets the variables of a `.env` file that the environment does not set: the environment wins,
 * even with an empty value. No file, nothing to do. Returns whether a file was read.
 */
export function loadDotEnv(path = '.env'): boolean {
  if (!existsSync(path)) return false
  process.loadEnvFile(path)
  return true
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name]
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false
  if (raw === 'true' || raw === '1') return true
  throw new ConfigError(`${name} must be true or false, got "${raw}"`)
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const production = env.NODE_ENV === 'production'
  const jwtSecret = env.JWT_SECRET || undefined
  if (production && !jwtSecret) throw new ConfigError('JWT_SECRET must be set when NODE_ENV=production')
  if (jwtSecret && jwtSecret.length < 32) throw new ConfigError('JWT_SECRET must be at least 32 characters long')

  const databaseUrl = env.DATABASE_URL || undefined
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgresql:// URL')
  }
  const consoleSourceMaps = flag(env, 'CONSOLE_SOURCE_MAPS')
  if (production && consoleSourceMaps) throw new ConfigError('CONSOLE_SOURCE_MAPS is for development; unset it when NODE_ENV=production')
  const adminUser = env.ADMIN_USERNAME
  const adminPassword = env.ADMIN_PASSWORD
  if (Boolean(adminUser) !== Boolean(adminPassword)) {
    throw new ConfigError('ADMIN_USERNAME and ADMIN_PASSWORD must be set together')
  }

  return {
    databaseUrl,
    dataDir: resolve(env.DATA_DIR || '.data'),
    host: env.HOST || '127.0.0.1',
    port: integer(env, 'PORT', 3000, 0, 65535),
    production,
    jwtSecret,
    tokenTtlSeconds: integer(env, 'TOKEN_TTL_SECONDS', 3600, 60, 30 * 24 * 3600),
    bootstrapAdmin: adminUser && adminPassword ? { username: adminUser, password: adminPassword } : undefined,
    logLevel: env.LOG_LEVEL || 'info',
    policiesDir: resolve(env.POLICIES_DIR || 'policies'),
    corsOrigins: (env.CORS_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    trustProxy: trustProxy(env.TRUST_PROXY),
    loginMaxFailures: integer(env, 'LOGIN_MAX_FAILURES', 10, 1, 1000),
    loginMaxFailuresPerAddress: integer(env, 'LOGIN_MAX_FAILURES_PER_ADDRESS', 30, 1, 100_000),
    loginWindowSeconds: integer(env, 'LOGIN_WINDOW_SECONDS', 900, 1, 86_400),
    registerMaxPerAddress: integer(env, 'REGISTER_MAX_PER_ADDRESS', 10, 1, 100_000),
    registerWindowSeconds: integer(env, 'REGISTER_WINDOW_SECONDS', 3600, 1, 86_400),
    // Below 2^14 is too weak for production; the tests set a lower cost in code, not here.
    passwordCost: { ...OWASP_COST, N: 2 ** integer(env, 'SCRYPT_LOG2_N', Math.log2(OWASP_COST.N), 14, 20) },
    // Below the 10 s after which `docker stop` kills the process.
    shutdownTimeoutSeconds: integer(env, 'SHUTDOWN_TIMEOUT_SECONDS', 8, 1, 600),
    consoleSourceMaps,
    accountCacheSize: integer(env, 'ACCOUNT_CACHE_SIZE', 10_000, 0, 1_000_000),
  }
}
