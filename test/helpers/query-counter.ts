import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, Transaction } from '@prisma/driver-adapter-utils'
import type { DatabaseDriver } from '../../src/db/adapters.ts'

/** SQL statements sent through a driver, split into queries and transaction control. */
export interface StatementCount {
  queries: string[]
  transactionControl: number
}

/** Wraps a driver so every statement Prisma sends through it is counted. */
export function countingDriver(driver: DatabaseDriver): DatabaseDriver & { count: StatementCount; reset(): void } {
  const count: StatementCount = { queries: [], transactionControl: 0 }
  const wrapTransaction = (tx: Transaction): Transaction =>
    new Proxy(tx, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver)
        if (key === 'queryRaw' || key === 'executeRaw') {
          return (query: { sql: string }) => {
            count.queries.push(query.sql)
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
          return (query: { sql: string }) => {
            count.queries.push(query.sql)
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
      count.transactionControl = 0
    },
  }
}
