import t, { type Test } from 'tap'
import { KEYED_LIST_LIMIT } from '../../src/authz/authorizer.ts'
import type { Prisma } from '../../src/generated/prisma/client.ts'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { visitedRows, type PlanNode } from '../helpers/plans.ts'
import { ACCOUNT_LOOKUP, countingDriver } from '../helpers/query-counter.ts'

// A list's cost must follow the caller's own rows wherever they sit in the table. Members read
// tasks through their projects: the ones they own and the ones shared with them. A member created
// after everybody else has the last rows of the table, where a plan that walks the primary key
// and filters by owner (or by membership) finds them only after reading every other user's rows.

const OTHERS = 1000
const PROJECTS = 5
/** The oldest and newest members own more rows than a page holds, as heavy users do. */
const OWN_PROJECTS = 50
/** …and are members of this many projects of others, spread over the whole table. */
const SHARED_PROJECTS = 20
/** Memberships of every other user, in projects of their neighbours: the table is never just the callers'. */
const OTHERS_MEMBERSHIPS = 8
const TASKS = 20

/**
 * Lists whose shared side needs a column of projects beyond its key: the owner (`?access=shared`)
 * or the name to order by. PostgreSQL at its default random_page_cost (4, priced for spinning
 * disks) prices a heap probe of projects for each shared project above one scan of the whole
 * table while the table is small (5,100 rows here, 10,050 in the benchmark) and hashes it; the
 * same statements probe (20 rows) at random_page_cost = 1.1, as for SSDs or a cached working set.
 */
const KNOWN_TABLE_READS = new Set(['/api/tasks?access=shared', '/api/projects?ordering=-name', '/api/projects?access=shared'])
const KNOWN_TABLE_READ = 'projects hashed whole by the shared side at random_page_cost = 4 (docs/performance.md)'

for (const engine of engines) {
  t.test(engine, async (t) => {
    let counter: ReturnType<typeof countingDriver> | undefined
    const api = await startApp(t, engine, {}, (driver) => (counter = countingDriver(driver)))
    const db = api.app.db
    const sql = (text: string, ...args: unknown[]) => db.$executeRawUnsafe(text, ...args)
    const oldest = await api.user('member')
    await sql(`INSERT INTO users (username, password_hash) SELECT 'other' || g, 'x' FROM generate_series(1, ${OTHERS}) g ORDER BY g`)
    const auditor = await api.user('auditor')
    const newest = await api.user('member')
    const big = await api.user('member')
    const seed = (owner: number, projects: number) =>
      sql(
        `WITH p AS (INSERT INTO projects (owner_id, name) SELECT $1, 'p' || g FROM generate_series(1, $2) g ORDER BY g RETURNING id)
         INSERT INTO tasks (project_id, title, completed) SELECT p.id, 'task ' || g, g % 3 = 0 FROM p, generate_series(1, ${TASKS}) g ORDER BY p.id, g`,
        owner,
        projects,
      )
    await seed(oldest.id, OWN_PROJECTS)
    await sql(`WITH p AS (INSERT INTO projects (owner_id, name)
        SELECT u.id, 'p' || g FROM users u, generate_series(1, ${PROJECTS}) g WHERE u.username LIKE 'other%' ORDER BY u.id, g RETURNING id)
      INSERT INTO tasks (project_id, title, completed) SELECT p.id, 'task ' || g, g % 3 = 0 FROM p, generate_series(1, ${TASKS}) g ORDER BY p.id, g`)
    await seed(newest.id, OWN_PROJECTS)

    // Sharing, in key order like the rest: the oldest member's memberships first, the newest's
    // last. Each is a member of SHARED_PROJECTS projects of others spread over the table, viewer
    // and editor in turn; every other user is a member of a few projects of the users after them;
    // the first projects of the oldest and the newest are shared with a few others.
    const othersProjects = `SELECT p.id, row_number() OVER (ORDER BY p.id) AS n FROM projects p JOIN users u ON u.id = p.owner_id WHERE u.username LIKE 'other%'`
    const shareWith = (user: number, shift: number) =>
      sql(
        `INSERT INTO project_members (project_id, user_id, role)
         SELECT o.id, $1, CASE WHEN o.n % 2 = 0 THEN 'editor' ELSE 'viewer' END FROM (${othersProjects}) o
         WHERE o.n % ${Math.floor((OTHERS * PROJECTS) / SHARED_PROJECTS)} = ${shift} ORDER BY o.id`,
        user,
      )
    const shareOwn = (owner: number) =>
      sql(
        `INSERT INTO project_members (project_id, user_id, role)
         SELECT p.id, u.id, 'viewer' FROM (SELECT id FROM projects WHERE owner_id = $1 ORDER BY id LIMIT 5) p,
           (SELECT id FROM users WHERE username IN ('other1', 'other2', 'other3')) u ORDER BY p.id, u.id`,
        owner,
      )
    await shareWith(oldest.id, 7)
    await shareOwn(oldest.id)
    await sql(`INSERT INTO project_members (project_id, user_id, role)
      SELECT p.id, u.id, CASE WHEN k % 2 = 0 THEN 'editor' ELSE 'viewer' END
      FROM users u, generate_series(1, ${OTHERS_MEMBERSHIPS}) k,
        LATERAL (SELECT p.id FROM projects p JOIN users o ON o.id = p.owner_id
                 WHERE o.username = 'other' || ((substr(u.username, 6)::int + k - 1) % ${OTHERS} + 1) ORDER BY p.id LIMIT 1 OFFSET k % ${PROJECTS}) p
      WHERE u.username LIKE 'other%' ORDER BY u.id, k
      ON CONFLICT DO NOTHING`)
    await shareWith(newest.id, 3)
    await shareOwn(newest.id)
    await sql('VACUUM ANALYZE')

    const readableProjects = (who: { id: number }): Prisma.ProjectWhereInput => ({
      OR: [{ ownerId: who.id }, { members: { some: { userId: who.id } } }],
    })
    const readableTasks = (who: { id: number; role: string }): Prisma.TaskWhereInput =>
      who.role === 'auditor' ? {} : { project: { is: readableProjects(who) } }

    /** What the caller reads of each table, had it an index for each: the plans' yardstick. */
    async function callerRows(who: typeof newest) {
      const tasks = await db.task.count({ where: readableTasks(who) })
      const projects = await db.project.count({ where: readableProjects(who) })
      const members = await db.projectMember.count({ where: { project: { is: readableProjects(who) } } })
      return { tasks, projects, members }
    }

    const sharedProject = async (who: typeof newest) =>
      (await db.project.findFirstOrThrow({ where: { members: { some: { userId: who.id } } }, orderBy: { id: 'asc' } })).id
    const ownProject = async (who: typeof newest) =>
      (await db.project.findFirstOrThrow({ where: { ownerId: who.id, members: { some: {} } }, orderBy: { id: 'asc' } })).id

    /** The SELECTs of one request, each EXPLAIN ANALYZEd: rows read per table, and the plan's node types. */
    async function visits(t: Test, url: string, as: typeof newest) {
      counter!.reset()
      const res = await api.request({ url, as })
      t.equal(res.statusCode, 200, url)
      // Not authentication's read of the caller's account (on their first request only).
      const statements = counter!.count.statements.filter(({ sql }) => /^\s*SELECT/i.test(sql) && !ACCOUNT_LOOKUP.test(sql))
      const read: Array<{ sql: string; tables: Map<string, number>; explain: () => Promise<string> }> = []
      for (const { sql, args } of statements) {
        const [row] = await db.$queryRawUnsafe<Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>>(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
          ...args.map((arg) => (typeof arg === 'bigint' ? Number(arg) : arg)),
        )
        const plan = row!['QUERY PLAN'][0]!.Plan
        const explain = async () =>
          (
            await db.$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(
              `EXPLAIN (ANALYZE, COSTS) ${sql}`,
              ...args.map((arg) => (typeof arg === 'bigint' ? Number(arg) : arg)),
            )
          )
            .map((line) => line['QUERY PLAN'])
            .join('\n')
        read.push({ sql, tables: visitedRows(plan), explain })
      }
      return { body: res.json<{ items: Array<{ id: number }>; total: number }>(), read }
    }

    t.test('the newest and the oldest member read about their own and shared rows, not the table', async (t) => {
      const tableSizes = {
        tasks: await db.task.count(),
        projects: await db.project.count(),
        project_members: await db.projectMember.count(),
      }
      for (const [name, who] of [
        ['newest', newest],
        ['oldest', oldest],
      ] as const) {
        const mine = await callerRows(who)
        t.equal(
          mine.projects,
          OWN_PROJECTS + SHARED_PROJECTS,
          `${name}: owns ${OWN_PROJECTS} projects and is a member of ${SHARED_PROJECTS}`,
        )
        // A plan may read a few times what the caller can see (the keys of each side, then the
        // page by key under the whole filter), never a share of the table: rows of a table
        // reached by a nested loop count once per loop, so the budget is on all the caller's rows.
        const rows = mine.tasks + mine.projects + mine.members
        const budget = 3 * rows + 50
        for (const [table, size] of Object.entries(tableSizes))
          t.ok(size > budget, `${table} (${size} rows) is larger than the budget (${budget}): reading it whole fails`)
        const shared = await sharedProject(who)
        const owned = await ownProject(who)
        for (const url of [
          '/api/tasks',
          '/api/tasks?limit=10',
          '/api/tasks?ordering=-title',
          '/api/tasks?completed=true&search=task',
          '/api/tasks?access=shared',
          '/api/tasks?access=owned&ordering=-createdAt',
          '/api/projects',
          '/api/projects?ordering=-name',
          '/api/projects?access=shared',
          `/api/projects/${shared}/tasks?search=task%201&ordering=-title`,
          `/api/projects/${owned}/members`,
          `/api/projects/${shared}/members`,
        ]) {
          const { body, read } = await visits(t, url, who)
          t.ok(body.total > 0, `${name} ${url}: has rows`)
          for (const { sql, tables, explain } of read) {
            const within = Math.max(...tables.values()) <= budget
            const what = `${name} ${url}: ${[...tables].map(([table, rows]) => `${rows} rows of ${table}`).join(', ')} read (budget ${budget})`
            const known =
              !within && KNOWN_TABLE_READS.has(url) && [...tables].every(([table, rows]) => rows <= budget || table === 'projects')
            t.ok(within, what, known ? { todo: KNOWN_TABLE_READ } : {})
            if (!within) t.comment(`${sql}\n${await explain()}`)
          }
        }
      }
    })

    t.test('pages agree with the policy for members and auditors, whatever the path', async (t) => {
      await seed(big.id, Math.ceil((KEYED_LIST_LIMIT + 100) / TASKS))
      // The big member also reads a few shared projects: its union passes the key limit only with them.
      await shareWith(big.id, 11)
      await sql('VACUUM ANALYZE')
      const queries = [
        '',
        '?ordering=-title',
        '?ordering=completed&offset=37&limit=13',
        '?search=TASK%201&ordering=-createdAt',
        '?access=shared&ordering=-title&offset=5',
        '?access=owned&limit=7&offset=3',
        '?offset=10000',
      ]
      const bigQueries = [...queries, `?offset=${KEYED_LIST_LIMIT - 10}&limit=20`, `?offset=${KEYED_LIST_LIMIT + 40}&limit=100`]
      for (const [who, list] of [
        [newest, queries],
        [oldest, queries],
        [big, bigQueries],
        [auditor, queries],
      ] as const) {
        for (const query of list) {
          const params = new URLSearchParams(query)
          const ordering = params.get('ordering') ?? 'id'
          const field = ordering.replace('-', '')
          const search = params.get('search')
          const access = params.get('access')
          const expected = await db.task.findMany({
            where: {
              AND: [
                readableTasks(who),
                search
                  ? {
                      OR: [
                        { title: { contains: search, mode: 'insensitive' } },
                        { description: { contains: search, mode: 'insensitive' } },
                      ],
                    }
                  : {},
                access ? { project: { is: { ownerId: access === 'owned' ? who.id : { not: who.id } } } } : {},
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
      for (const who of [newest, oldest, big, auditor]) {
        for (const query of ['', '?ordering=-name&offset=3&limit=20', '?access=shared', '?access=owned&ordering=-createdAt']) {
          const params = new URLSearchParams(query)
          const ordering = params.get('ordering') ?? 'id'
          const field = ordering.replace('-', '')
          const access = params.get('access')
          const expected = await db.project.findMany({
            where: {
              AND: [
                who.role === 'auditor' ? {} : readableProjects(who),
                access ? { ownerId: access === 'owned' ? who.id : { not: who.id } } : {},
              ],
            },
            orderBy: field === 'id' ? [{ id: 'asc' }] : [{ [field]: ordering.startsWith('-') ? 'desc' : 'asc' }, { id: 'asc' }],
            select: { id: true },
          })
          const offset = Number(params.get('offset') ?? 0)
          const limit = Number(params.get('limit') ?? 50)
          const res = await api.request({ url: `/api/projects${query}`, as: who })
          t.equal(res.statusCode, 200)
          const body = res.json<{ items: Array<{ id: number }>; total: number }>()
          t.equal(body.total, expected.length, `${who.role} ${who.id} projects${query}: total`)
          t.same(
            body.items.map((item) => item.id),
            expected.slice(offset, offset + limit).map((row) => row.id),
            `${who.role} ${who.id} projects${query}: the page`,
          )
        }
      }
      for (const who of [newest, oldest]) {
        for (const project of [await sharedProject(who), await ownProject(who)]) {
          const expected = await db.projectMember.findMany({
            where: { projectId: project },
            orderBy: { id: 'asc' },
            select: { userId: true },
          })
          const res = await api.request({ url: `/api/projects/${project}/members`, as: who })
          t.equal(res.statusCode, 200)
          const body = res.json<{ items: Array<{ userId: number }>; total: number }>()
          t.equal(body.total, expected.length, `${who.id}: members of ${project}, total`)
          t.same(
            body.items.map((item) => item.userId),
            expected.map((row) => row.userId),
            `${who.id}: members of ${project}, the page`,
          )
        }
      }
    })
  })
}
