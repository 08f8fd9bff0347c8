// Part of npm run bench: every statement the scenarios send is run under EXPLAIN ANALYZE on the
// benchmark database (writes in a transaction that is rolled back), as a custom plan and, for
// statements the server prepares by name, as the generic plan PostgreSQL may switch to after
// five runs. A scenario fails when a statement reads more rows of a table than its budget
// allows: a plan whose cost follows the whole table rather than the caller's rows (an index
// walked end to end is as bad as a sequential scan); when it scans a table of the data
// sequentially at all; or when it counts memberships where it only needs to know one exists.
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { postgresDriver } from '../src/db/adapters.ts'
import { visitedRows, type PlanNode } from '../test/helpers/plans.ts'
import { countingDriver } from '../test/helpers/query-counter.ts'
import { buildRawSql, type Queryable } from './baselines/raw-sql-app.ts'

export interface Request {
  name: string
  method: 'GET' | 'POST' | 'PATCH'
  path: string
  auth: string
  body?: object
  /** Rows a statement may read of one table: a few times the caller's own. */
  budget: number
}

interface Statement {
  sql: string
  args: unknown[]
  /** Prepared by name, so PostgreSQL may run it with a generic plan. */
  named: boolean
}

export interface PlanReport {
  server: string
  request: string
  /** The most rows any statement of the request read of one table, and where. */
  maxRows: number
  where: string
  problems: string[]
}

interface Recorder {
  app: FastifyInstance
  /** The statements sent since the last call. */
  take(): Statement[]
  close(): Promise<void>
}

async function policyServer(databaseUrl: string, secret: string): Promise<Recorder> {
  const driver = countingDriver(postgresDriver(databaseUrl, 2))
  const app = await buildApp({ ...loadConfig({ JWT_SECRET: secret }), databaseUrl }, { driver, logger: false })
  return {
    app,
    take() {
      // The server names every statement (src/db/adapters.ts).
      const taken = driver.count.statements.map(({ sql, args }) => ({ sql, args, named: true }))
      driver.reset()
      return taken
    },
    close: async () => {
      await app.close()
      await driver.close()
    },
  }
}

async function rawSqlServer(databaseUrl: string, secret: string): Promise<Recorder> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 })
  const statements: Statement[] = []
  const record = (config: pg.QueryConfig | string) => {
    if (typeof config === 'string') statements.push({ sql: config, args: [], named: false })
    else statements.push({ sql: config.text, args: config.values ?? [], named: Boolean(config.name) })
  }
  const recording: Queryable = {
    query: (config) => {
      record(config)
      return pool.query(config)
    },
    connect: async () => {
      const client = await pool.connect()
      return {
        query: (config) => {
          record(config)
          return client.query(config)
        },
        release: () => client.release(),
      }
    },
  }
  const app = await buildRawSql(recording, secret)
  return {
    app,
    take: () => statements.splice(0),
    close: async () => {
      await app.close()
      await pool.end()
    },
  }
}

/** Tables of the data: a plan may reach them only through an index. */
const INDEXED_ONLY = new Set(['users', 'projects', 'tasks', 'project_members'])

interface Node extends PlanNode {
  'Parent Relationship'?: string
}

/** Sequential scans of the data's tables, and subplans that aggregate (count) memberships. */
function shapeProblems(node: Node, inSubPlan = false, found: string[] = []): string[] {
  const table = node['Relation Name']
  if (node['Node Type'] === 'Seq Scan' && table && INDEXED_ONLY.has(table)) found.push(`sequential scan of ${table}`)
  const sub = inSubPlan || node['Parent Relationship'] === 'SubPlan' || node['Parent Relationship'] === 'InitPlan'
  if (sub && node['Node Type'] === 'Aggregate' && visitedRows(node).has('project_members'))
    found.push('memberships counted in a subplan where their existence is enough')
  for (const child of node.Plans ?? []) shapeProblems(child, sub, found)
  return found
}

function literal(client: pg.Client, value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  const text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : `${value as string | number | bigint | boolean}`
  return client.escapeLiteral(text)
}

async function plans(client: pg.Client, { sql, args, named }: Statement, index: number): Promise<Array<[string, PlanNode]>> {
  const values = args.map((arg) => (typeof arg === 'bigint' ? arg.toString() : arg))
  // EXPLAIN ANALYZE runs the statement: a write's effects are rolled back.
  const write = !/^\s*SELECT/i.test(sql)
  if (write) await client.query('BEGIN')
  try {
    const custom = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, values)
    const found: Array<[string, PlanNode]> = [['custom', custom.rows[0]!['QUERY PLAN'][0]!.Plan]]
    if (!named) return found
    const name = `bench_explain_${index}`
    await client.query(`PREPARE ${name} AS ${sql}`)
    try {
      await client.query('SET plan_cache_mode = force_generic_plan')
      const call = args.length ? `EXECUTE ${name}(${args.map((arg) => literal(client, arg)).join(', ')})` : `EXECUTE ${name}`
      const generic = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${call}`)
      found.push(['generic', generic.rows[0]!['QUERY PLAN'][0]!.Plan])
    } finally {
      await client.query('RESET plan_cache_mode')
      await client.query(`DEALLOCATE ${name}`)
    }
    return found
  } finally {
    if (write) await client.query('ROLLBACK')
  }
}

/** Runs each request once on the real server and on the raw-SQL baseline, and checks every plan. */
export async function explainRequests(databaseUrl: string, secret: string, requests: Request[]): Promise<PlanReport[]> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const reports: PlanReport[] = []
  try {
    for (const [server, open] of [
      ['policy', policyServer],
      ['raw-sql', rawSqlServer],
    ] as const) {
      const recorder = await open(databaseUrl, secret)
      try {
        recorder.take()
        for (const request of requests) {
          await recorder.app.inject({
            method: request.method,
            url: request.path,
            headers: { authorization: request.auth },
            payload: request.body,
          })
          const report: PlanReport = { server, request: request.name, maxRows: 0, where: '', problems: [] }
          let index = 0
          for (const statement of recorder.take()) {
            if (!/^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i.test(statement.sql)) continue
            for (const [kind, plan] of await plans(client, statement, index++)) {
              for (const problem of shapeProblems(plan))
                report.problems.push(`${server}, ${request.name}: ${problem} (${kind} plan) in ${statement.sql.slice(0, 200)}…`)
              for (const [table, rows] of visitedRows(plan)) {
                if (rows > report.maxRows) Object.assign(report, { maxRows: rows, where: `${table} (${kind} plan)` })
                if (rows > request.budget)
                  report.problems.push(
                    `${server}, ${request.name}: ${rows} rows of ${table} read (budget ${request.budget}, ${kind} plan) by ${statement.sql.slice(0, 200)}…`,
                  )
              }
            }
          }
          reports.push(report)
        }
      } finally {
        await recorder.close()
      }
    }
  } finally {
    await client.end()
  }
  return reports
}
