import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, Transaction } from '@prisma/driver-adapter-utils'
import type { DatabaseDriver } from '../../src/db/adapters.ts'

/** SQL statements sent through a driver, split into queries and transaction control. */
export interface StatementCount {
  queries: string[]
  /** The same statements with their arguments, for EXPLAIN. */
  statements: Array<{ sql: string; args: unknown[] }>
  transactionControl: number
}

/** Wraps a driver so every statement Prisma sends through it is counted. */
export function countingDriver(driver: DatabaseDriver): DatabaseDriver & { count: StatementCount; reset(): void } {
  const count: StatementCount = { queries: [], statements: [], transactionControl: 0 }
  const wrapTransaction = (tx: Transaction): Transaction =>
    new Proxy(tx, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver)
        if (key === 'queryRaw' || key === 'executeRaw') {
          return (query: { sql: string; args: unknown[] }) => {
            count.queries.push(query.sql)
            count.statements.push({ sql: query.sql, args: query.args })
            return value.call(target, query)
          }
        }
        if (key === 'commit' || key === 'rollback') {
          return () => {
            count.transactionControl++
            return value.call(target)
          }
        }
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  const wrapAdapter = (adapter: SqlDriverAdapter): SqlDriverAdapter =>
    new Proxy(adapter, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver)
        if (key === 'queryRaw' || key === 'executeRaw') {
          return (query: { sql: string; args: unknown[] }) => {
            count.queries.push(query.sql)
            count.statements.push({ sql: query.sql, args: query.args })
            return value.call(target, query)
          }
        }
        if (key === 'startTransaction') {
          return async (...args: unknown[]) => {
            count.transactionControl++
            return wrapTransaction(await value.apply(target, args))
          }
        }
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: driver.factory.provider,
    adapterName: driver.factory.adapterName,
    connect: async () => wrapAdapter(await driver.factory.connect()),
    connectToShadowDb: () => driver.factory.connectToShadowDb(),
  }
  return {
    ...driver,
    factory,
    count,
    reset() {
      count.queries.length = 0
      count.statements.length = 0
      count.transactionControl = 0
    },
  }
}
