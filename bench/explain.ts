// Part of npm run bench: every statement the hot requests send is EXPLAINed on the benchmark
// database, and the run fails if one of them scans projects or tasks sequentially.
import pg from 'pg'
import { buildApp } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { postgresDriver } from '../src/db/adapters.ts'
import { countingDriver } from '../test/helpers/query-counter.ts'

export interface Request {
  name: string
  method: 'GET' | 'POST' | 'PATCH'
  path: string
  auth: string
  body?: object
}

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  Plans?: PlanNode[]
}

function seqScans(node: PlanNode): string[] {
  const own = node['Node Type'] === 'Seq Scan' && node['Relation Name'] ? [node['Relation Name']] : []
  return [...own, ...(node.Plans ?? []).flatMap(seqScans)]
}

/** Plans of the statements each request sends; returns the problems found (empty: all indexed). */
export async function explainRequests(databaseUrl: string, secret: string, requests: Request[]): Promise<string[]> {
  const driver = countingDriver(postgresDriver(databaseUrl, 2))
  const app = await buildApp({ ...loadConfig({ JWT_SECRET: secret }), databaseUrl }, { driver, logger: false })
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const problems: string[] = []
  try {
    for (const request of requests) {
      driver.reset()
      await app.inject({ method: request.method, url: request.path, headers: { authorization: request.auth }, payload: request.body })
      for (const { sql, args } of driver.count.statements) {
        if (!/^\s*SELECT/i.test(sql)) continue
        const values = args.map((arg) => (typeof arg === 'bigint' ? arg.toString() : arg))
        const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${sql}`, values)
        const scans = seqScans(rows[0]['QUERY PLAN'][0].Plan).filter((table) => table === 'projects' || table === 'tasks')
        if (scans.length) problems.push(`${request.name}: sequential scan of ${scans.join(', ')} in ${sql.slice(0, 160)}…`)
      }
    }
  } finally {
    await client.end()
    await app.close()
    await driver.close()
  }
  return problems
}
