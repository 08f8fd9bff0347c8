import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, Transaction } from '@prisma/driver-adapter-utils'
import type { DatabaseDriver } from '../../src/db/adapters.ts'

/** SQL statements sent through a driver: queries, and transactions (each one BEGIN + COMMIT/ROLLBACK). */
export interface StatementCount {
  queries: string[]
  /** The same statements with their arguments, for EXPLAIN. */
  statements: Array<{ sql: string; args: unknown[] }>
  transactions: number
}

/**
 * Authentication's read of the caller's account: a caller's first request sends it, later ones
 * find the account in the account cache.
 */
export const ACCOUNT_LOOKUP = /^SELECT [^;]* FROM "public"\."users" AS "t0" WHERE \("t0"\."id" = \$1/

// Adapters differ in whether COMMIT goes through queryRaw (pg) or not (PGlite): count the
// transaction once, when it starts, and leave its control statements out of the queries.
const CONTROL = /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i

/** Wraps a driver so every statement Prisma sends through it is counted. */
export function countingDriver(driver: DatabaseDriver): DatabaseDriver & { count: StatementCount; reset(): void } {
  const count: StatementCount = { queries: [], statements: [], transactions: 0 }
  // Adapters and their transactions both send statements; transactions also start in adapters.
  const counted = <T extends object>(queryable: T): T =>
    new Proxy(queryable, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as (...args: unknown[]) => unknown
        if (key === 'queryRaw' || key === 'executeRaw') {
          return (query: { sql: string; args: unknown[] }) => {
            if (!CONTROL.test(query.sql)) {
              count.queries.push(query.sql)
              count.statements.push({ sql: query.sql, args: query.args })
            }
            return value.call(target, query)
          }
        }
        if (key === 'startTransaction') {
          return async (...args: unknown[]) => {
            count.transactions++
            return counted((await value.apply(target, args)) as Transaction)
          }
        }
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: driver.factory.provider,
    adapterName: driver.factory.adapterName,
    connect: async () => counted<SqlDriverAdapter>(await driver.factory.connect()),
    connectToShadowDb: () => driver.factory.connectToShadowDb(),
  }
  return {
    ...driver,
    factory,
    count,
    reset() {
      count.queries.length = 0
      count.statements.length = 0
      count.transactions = 0
    },
  }
}
