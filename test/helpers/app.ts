import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { buildApp, type BuildOptions } from '../../src/app.ts'
import { loadConfig, type AppConfig } from '../../src/config.ts'
import { hashPassword, type ScryptCost } from '../../src/auth/password.ts'
import { postgresDriver } from '../../src/db/adapters.ts'
import { createTestDatabase, type Engine, type TestDatabase } from './databases.ts'
import { assertProblemTypesServed, recordProblemType } from './problem-types.ts'

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-000000'
export const PASSWORD = 'correct horse battery'

/** Far below production's (OWASP) cost, which takes a large part of a second per hash by design. */
export const TEST_PASSWORD_COST: ScryptCost = { N: 2 ** 10, r: 8, p: 1 }

// One scrypt hash for every fixture user: hashing is deliberately slow.
let passwordHash: Promise<string> | undefined

export interface Account {
  id: number
  username: string
  role: string
  token: string
  auth: { authorization: string }
}

export interface TestApp {
  app: FastifyInstance
  database: TestDatabase
  config: AppConfig
  /** A user created directly in the database, with a token. */
  user(role?: string, username?: string): Promise<Account>
  request(options: InjectOptions & { as?: Account }): Promise<LightMyRequestResponse>
}

let counter = 0

export async function startApp(
  t: Test,
  engine: Engine,
  overrides: Partial<AppConfig> = {},
  wrapDriver: (driver: TestDatabase['driver']) => TestDatabase['driver'] = (driver) => driver,
  build: Pick<BuildOptions, 'consoleDir'> = {},
): Promise<TestApp> {
  const database = await createTestDatabase(engine)
  const config: AppConfig = {
    ...loadConfig({ JWT_SECRET: TEST_SECRET }),
    databaseUrl: database.url,
    passwordCost: TEST_PASSWORD_COST,
    ...overrides,
  }
  const app = await buildApp(config, { ...build, driver: wrapDriver(database.driver), logger: false }).catch(async (error: unknown) => {
    await database.drop()
    throw error
  })
  const problemTypes = new Set<string>()
  // A test may close the app itself (a shutdown test); its problem types are then checked by others.
  let closed = false
  app.addHook('onClose', () => {
    closed = true
  })
  t.teardown(async () => {
    try {
      if (!closed) await assertProblemTypesServed(app, problemTypes)
    } finally {
      await app.close()
      await database.drop()
    }
  })
  await app.ready()
  return {
    app,
    database,
    config,
    async user(role = 'member', username = `user${process.pid}_${++counter}`) {
      passwordHash ??= hashPassword(PASSWORD, TEST_PASSWORD_COST)
      const user = await app.db.user.create({ data: { username, role, passwordHash: await passwordHash } })
      const token = app.issueToken(user).accessToken
      return { id: user.id, username, role, token, auth: { authorization: `Bearer ${token}` } }
    },
    async request({ as, headers, ...options }) {
      const res = await app.inject({ ...options, headers: { ...(as ? as.auth : {}), ...headers } })
      recordProblemType(res, problemTypes)
      return res
    },
  }
}

/**
 * Another server on `api`'s database, as a second instance of a deployment would be: its own
 * connection pool on PostgreSQL; on PGlite, which one process owns, the same embedded database.
 */
export async function secondInstance(
  t: Test,
  api: TestApp,
  overrides: Partial<AppConfig> = {},
  logger: BuildOptions['logger'] = false,
): Promise<FastifyInstance> {
  const driver = api.database.url ? postgresDriver(api.database.url, 2) : api.database.driver
  const app = await buildApp({ ...api.config, ...overrides }, { driver, logger })
  t.teardown(async () => {
    await app.close()
    if (driver !== api.database.driver) await driver.close()
  })
  await app.ready()
  return app
}

/** Asserts an RFC 9457 answer: status, problem+json and the usual members, no stack. */
export function assertProblem(t: Test, res: LightMyRequestResponse, status: number, slug?: string) {
  t.equal(res.statusCode, status, `status ${status}: ${res.body.slice(0, 300)}`)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const body = res.json()
  t.equal(body.status, status)
  t.type(body.title, 'string')
  t.type(body.detail, 'string')
  if (slug) t.equal(body.type, `/problems/${slug}`)
  t.equal(body.requestId, res.headers['x-request-id'], 'the request id, as in the header')
  t.notMatch(res.body, /\bat .+:\d+:\d+|prisma\.|SELECT |stack/i, 'no stack trace or SQL')
  return body
}
