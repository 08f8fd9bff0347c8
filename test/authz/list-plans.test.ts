import t, { type Test } from 'tap'
import { KEYED_LIST_LIMIT } from '../../src/authz/authorizer.ts'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { visitedRows, type PlanNode } from '../helpers/plans.ts'
import { ACCOUNT_LOOKUP, countingDriver } from '../helpers/query-counter.ts'

// A list's cost must follow the caller's own rows wherever they sit in the table. Members read
// tasks through their projects' owner; a member created after everybody else has the last rows
// of the table, where a plan that walks the primary key and filters by owner finds them only
// after reading every other user's rows.

const OTHERS = 1000
const PROJECTS = 5
/** The oldest and newest members own more rows than a page holds, as heavy users do. */
const OWN_PROJECTS = 50
const TASKS = 20

for (const engine of engines) {
  t.test(engine, async (t) => {
    let counter: ReturnType<typeof countingDriver> | undefined
    const api = await startApp(t, engine, {}, (driver) => (counter = countingDriver(driver)))
    const db = api.app.db
    const oldest = await api.user('member')
    await db.$executeRawUnsafe(
      `INSERT INTO users (username, password_hash) SELECT 'other' || g, 'x' FROM generate_series(1, ${OTHERS}) g ORDER BY g`,
    )
    const auditor = await api.user('auditor')
    const newest = await api.user('member')
    const big = await api.user('member')
    const seed = (owner: number, projects: number) =>
      db.$executeRawUnsafe(
        `WITH p AS (INSERT INTO projects (owner_id, name) SELECT $1, 'p' || g FROM generate_series(1, $2) g ORDER BY g RETURNING id)
         INSERT INTO tasks (project_id, title, completed) SELECT p.id, 'task ' || g, g % 3 = 0 FROM p, generate_series(1, ${TASKS}) g ORDER BY p.id, g`,
        owner,
        projects,
      )
    await seed(oldest.id, OWN_PROJECTS)
    await db.$executeRawUnsafe(`WITH p AS (INSERT INTO projects (owner_id, name)
        SELECT u.id, 'p' || g FROM users u, generate_series(1, ${PROJECTS}) g WHERE u.username LIKE 'other%' ORDER BY u.id, g RETURNING id)
      INSERT INTO tasks (project_id, title, completed) SELECT p.id, 'task ' || g, g % 3 = 0 FROM p, generate_series(1, ${TASKS}) g ORDER BY p.id, g`)
    await seed(newest.id, OWN_PROJECTS)
    await db.$executeRawUnsafe('VACUUM ANALYZE')
    const own = OWN_PROJECTS * TASKS

    /** The SELECTs of one request, each EXPLAIN ANALYZEd: rows read per table. */
    async function visits(t: Test, url: string, as: typeof newest) {
      counter!.reset()
      const res = await api.request({ url, as })
      t.equal(res.statusCode, 200, url)
      // Not authentication's read of the caller's account (on their first request only).
      const statements = counter!.count.statements.filter(({ sql }) => /^\s*SELECT/i.test(sql) && !ACCOUNT_LOOKUP.test(sql))
      const read: Array<Map<string, number>> = []
      for (const { sql, args } of statements) {
        const [row] = await db.$queryRawUnsafe<Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>>(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
          ...args.map((arg) => (typeof arg === 'bigint' ? Number(arg) : arg)),
        )
        read.push(visitedRows(row!['QUERY PLAN'][0]!.Plan))
      }
      return { body: res.json<{ items: Array<{ id: number }>; total: number }>(), read }
    }

    t.test('the newest and the oldest member read about their own rows, not the table', async (t) => {
      for (const [name, who] of [
        ['newest', newest],
        ['oldest', oldest],
      ] as const) {
        for (const url of [
          '/api/tasks',
          '/api/tasks?limit=10',
          '/api/tasks?ordering=-title',
          '/api/tasks?completed=true&search=task',
          '/api/projects',
        ]) {
          const { body, read } = await visits(t, url, who)
          t.ok(body.total > 0, `${name} ${url}: has rows`)
          for (const tables of read) {
            for (const [table, rows] of tables) {
              t.ok(rows <= 3 * own + 50, `${name} ${url}: ${rows} rows of ${table} read for a caller with ${own} tasks`)
            }
          }
        }
      }
    })

    t.test('pages agree with the policy for members and auditors, whatever the path', async (t) => {
      await seed(big.id, Math.ceil((KEYED_LIST_LIMIT + 100) / TASKS))
      await db.$executeRawUnsafe('VACUUM ANALYZE')
      const queries = [
        '',
        '?ordering=-title',
        '?ordering=completed&offset=37&limit=13',
        '?search=TASK%201&ordering=-createdAt',
        '?offset=10000',
      ]
      const bigQueries = [...queries, `?offset=${KEYED_LIST_LIMIT - 10}&limit=20`, `?offset=${KEYED_LIST_LIMIT + 40}&limit=100`]
      for (const [who, list] of [
        [newest, queries],
        [oldest, queries],
        [big, bigQueries],
        [auditor, queries],
      ] as const) {
        const readable = who.role === 'auditor' ? {} : { project: { is: { ownerId: who.id } } }
        for (const query of list) {
          const params = new URLSearchParams(query)
          const ordering = params.get('ordering') ?? 'id'
          const field = ordering.replace('-', '')
          const search = params.get('search')
          const expected = await db.task.findMany({
            where: {
              AND: [
                readable,
                search
                  ? {
                      OR: [
                        { title: { contains: search, mode: 'insensitive' } },
                        { description: { contains: search, mode: 'insensitive' } },
                      ],
                    }
                  : {},
              ],
            },
            orderBy:
              field === 'id'
                ? [{ id: ordering.startsWith('-') ? 'desc' : 'asc' }]
                : [{ [field]: ordering.startsWith('-') ? 'desc' : 'asc' }, { id: 'asc' }],
            select: { id: true },
          })
          const offset = Number(params.get('offset') ?? 0)
          const limit = Number(params.get('limit') ?? 50)
          const res = await api.request({ url: `/api/tasks${query}`, as: who })
          t.equal(res.statusCode, 200)
          const body = res.json<{ items: Array<{ id: number }>; total: number }>()
          t.equal(body.total, expected.length, `${who.role} ${who.id} ${query}: total`)
          t.same(
            body.items.map((item) => item.id),
            expected.slice(offset, offset + limit).map((row) => row.id),
            `${who.role} ${who.id} ${query}: the page`,
          )
        }
      }
    })
  })
}
