import t from 'tap'
import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import { assertProblem, startApp, type Account, type TestApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { HOSTILE_RAW_BODIES, HOSTILE_VALUES, mutation, operations, valid, type Mutation, type Operation } from './openapi-requests.ts'

// No input makes the server fail: requests generated from the OpenAPI document for every
// documented route, as every role and as nobody, well-formed and broken (wrong types, huge
// sizes, odd encodings, invalid dates, Unicode, NUL characters, missing and extra fields, bad
// ids). Every answer is below 500, and every 4xx is application/problem+json.
// NO_5XX_RUNS sets the number of requests per database engine (default 300).

const RUNS = Number(process.env.NO_5XX_RUNS ?? 300)
const ROLES = ['member', 'auditor', 'admin'] as const
type Caller = (typeof ROLES)[number] | 'nobody'

interface Generated {
  operation: Operation
  caller: Caller
  values: Record<string, unknown>
  body: unknown
  mutation: Mutation
}

/** Percent-encoded; a lone surrogate as the bytes it would be (invalid UTF-8), as a hostile client would send it. */
function param(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  try {
    return encodeURIComponent(text)
  } catch {
    return `${encodeURIComponent(text.replace(/[\ud800-\udfff]/g, ''))}%ED%A0%80`
  }
}

interface Built {
  method: InjectOptions['method']
  url: string
  headers: Record<string, string>
  payload?: string | Buffer
}

/** The request to send for a generated one, its mutation applied (to copies: fast-check replays values while shrinking). */
function toRequest({ operation, values, body, mutation: m }: Generated): Built {
  const raw = new Map<string, string>(operation.parameters.flatMap((p) => (p.name in values ? [[p.name, param(values[p.name])]] : [])))
  const names = operation.parameters.map((p) => p.name)
  const fields = body && typeof body === 'object' && !Array.isArray(body) ? { ...(body as Record<string, unknown>) } : undefined
  let payload: unknown = fields ?? body
  let contentType = operation.body ? 'application/json' : undefined
  const extraQuery: string[] = []
  const fieldNames = fields ? Object.keys(fields) : []
  switch (m.kind) {
    case 'drop': {
      const dropped = fieldNames[m.pick % Math.max(fieldNames.length, 1)]
      if (dropped) payload = Object.fromEntries(Object.entries(fields!).filter(([name]) => name !== dropped))
      else if (names.length) raw.delete(names[m.pick % names.length]!)
      break
    }
    case 'extra':
      if (fields) fields[m.name] = m.value
      else extraQuery.push(`${encodeURIComponent(m.name)}=${param(m.value)}`)
      break
    case 'replace':
      if (fieldNames.length) fields![fieldNames[m.pick % fieldNames.length]!] = m.value
      else if (names.length) raw.set(names[m.pick % names.length]!, param(m.value))
      break
    case 'raw':
      payload = m.raw.body
      contentType = m.raw.type
      break
    case 'param':
      if (names.length) raw.set(names[m.pick % names.length]!, m.raw)
      break
    case 'repeat': {
      const query = operation.parameters.filter((p) => p.in === 'query' && raw.has(p.name))
      const repeated = query[m.pick % Math.max(query.length, 1)]
      if (repeated) extraQuery.push(`${repeated.name}=${raw.get(repeated.name)!}`)
      break
    }
    case 'unknownQuery':
      extraQuery.push(`${m.name}=${m.raw}`)
      break
  }
  let url = operation.path
  const query: string[] = []
  const headers: Record<string, string> = {}
  for (const p of operation.parameters) {
    const value = raw.get(p.name)
    if (p.in === 'path') url = url.replace(`{${p.name}}`, value ?? '')
    else if (p.in === 'query' && value !== undefined) query.push(`${p.name}=${value}`)
    // A header carries visible ASCII only (Node refuses the rest before it is sent).
    else if (p.in === 'header' && value !== undefined) headers[p.name] = value.replace(/[^\x20-\x7e]/g, '?')
  }
  query.push(...extraQuery)
  if (query.length) url += `?${query.join('&')}`
  if (contentType) headers['content-type'] = contentType
  const serialized = payload === undefined || typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload)
  return {
    method: operation.method,
    url,
    headers,
    ...(serialized === undefined ? {} : { payload: serialized }),
  }
}

async function fixtures(api: TestApp) {
  const callers = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await api.user(role)] as const))) as Record<
    (typeof ROLES)[number],
    Account
  >
  const victim = await api.user('member')
  const project = (await api.request({ method: 'POST', url: '/api/projects', as: callers.member, payload: { name: 'fuzzed' } })).json<{
    id: number
  }>()
  const task = (
    await api.request({ method: 'POST', url: '/api/tasks', as: callers.member, payload: { projectId: project.id, title: 'fuzzed' } })
  ).json<{ id: number }>()
  // Shared with the victim, so generated member routes also meet a membership that exists.
  await api.request({
    method: 'POST',
    url: `/api/projects/${project.id}/members`,
    as: callers.member,
    payload: { username: victim.username, role: 'viewer' },
  })
  return { callers, victim, project, ids: [1, victim.id, project.id, task.id, ...ROLES.map((role) => callers[role].id)] }
}

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine, {
      loginMaxFailures: 1_000_000,
      loginMaxFailuresPerAddress: 1_000_000,
      registerMaxPerAddress: 1_000_000,
    })
    const { callers, victim, project, ids } = await fixtures(api)
    const documented = operations((await api.request({ url: '/docs/json' })).json())
    t.ok(documented.length > 20, `${documented.length} documented operations`)

    // Requests may demote, delete or sign out the callers themselves: put them back after each.
    async function restoreCallers() {
      for (const role of ROLES) {
        const stored = await api.app.db.user.findUnique({ where: { id: callers[role].id } })
        if (!stored || stored.role !== role || stored.sessionVersion !== 0) callers[role] = await api.user(role)
      }
    }

    const request = fc
      .record({
        operation: fc.constantFrom(...documented),
        caller: fc.constantFrom<Caller>('member', 'auditor', 'admin', 'admin', 'nobody'),
        mutation,
      })
      .chain(({ operation, caller, mutation: m }) =>
        fc.record({
          operation: fc.constant(operation),
          caller: fc.constant(caller),
          mutation: fc.constant(m),
          values: fc.record(Object.fromEntries(operation.parameters.map((p) => [p.name, valid(p.schema, ids)])), {
            requiredKeys: operation.parameters.filter((p) => p.in === 'path').map((p) => p.name),
          }),
          body: operation.body ? valid(operation.body, ids) : fc.constant(undefined),
        }),
      )

    t.test('inputs the generator found answering 5xx or plain JSON', async (t) => {
      for (const [url, status] of [
        ['/api/projects/%E0%A4%A', 400],
        ['/api/projects/%zz', 400],
        [`/api/projects/${'x'.repeat(3000)}`, 414],
        ['/api/admin/audit?from=0000-01-01T00%3A00%3A00Z', 400],
        ['/api/admin/audit?to=0000-12-31T23%3A59%3A59Z', 400],
      ] as const) {
        assertProblem(t, await api.request({ url, as: callers.admin }), status)
      }
    })

    await t.test('sharing: every hostile value in every field, and every hostile body, is a 4xx problem', async (t) => {
      const stranger = await api.user('member')
      const members = `/api/projects/${project.id}/members`
      const requests: Array<{ method: 'POST' | 'PATCH'; url: string; payload: string | Buffer; type: string }> = []
      for (const [method, url, sample] of [
        ['POST', members, { username: stranger.username, role: 'viewer' }],
        ['PATCH', `${members}/${victim.id}`, { role: 'editor' }],
      ] as const) {
        const bodies: object[] = []
        for (const value of HOSTILE_VALUES) {
          for (const field of Object.keys(sample)) bodies.push({ ...sample, [field]: value })
          bodies.push({ ...sample, userId: value }, { ...sample, projectId: value })
        }
        requests.push(...bodies.map((body) => ({ method, url, payload: JSON.stringify(body), type: 'application/json' })))
        requests.push(...HOSTILE_RAW_BODIES.map(({ type, body }) => ({ method, url, payload: body, type })))
      }
      const before = await api.app.db.projectMember.findMany({ orderBy: { id: 'asc' } })
      const statuses = new Map<number, number>()
      // As the owner, whom the policy lets through to the username lookup and the writes.
      for (const { method, url, payload, type } of requests) {
        const res = await api.request({ method, url, payload, headers: { 'content-type': type }, as: callers.member })
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
        const summary = `${method} ${url} ${String(payload).slice(0, 100)} → ${res.statusCode} ${res.body.slice(0, 200)}`
        if (res.statusCode < 400 || res.statusCode >= 500) t.fail(summary)
        else if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) t.fail(`not a problem: ${summary}`)
      }
      t.comment(`${requests.length} requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`)
      t.ok(
        [...statuses.keys()].every((status) => status >= 400 && status < 500),
        'every answer a 4xx problem',
      )
      t.same(await api.app.db.projectMember.findMany({ orderBy: { id: 'asc' } }), before, 'no membership added or changed')
    })

    const seen = new Map<number, number>()
    const started = Date.now()
    const result = await fc.check(
      fc.asyncProperty(request, async (generated: Generated) => {
        const options = toRequest(generated)
        const as = generated.caller === 'nobody' ? undefined : callers[generated.caller]
        const res = await api.request({ ...options, as })
        await restoreCallers()
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
        const summary = `${options.method} ${options.url.slice(0, 200)} as ${generated.caller} → ${res.statusCode} ${res.body.slice(0, 200)}`
        if (res.statusCode >= 500) throw new Error(`5xx: ${summary}`)
        if (res.statusCode >= 400 && !/^application\/problem\+json/.test(String(res.headers['content-type']))) {
          throw new Error(`4xx without problem+json (${String(res.headers['content-type'])}): ${summary}`)
        }
      }),
      { numRuns: RUNS },
    )
    t.comment(`${RUNS} requests in ${Date.now() - started} ms; statuses ${JSON.stringify(Object.fromEntries([...seen].sort()))}`)
    // The error and how to replay it; the counterexample itself can be tens of kilobytes.
    const failure = result.failed
      ? `${(result.errorInstance as Error).stack} (seed ${result.seed}, path "${result.counterexamplePath}")`
      : ''
    t.notOk(result.failed, failure || 'no 5xx, every 4xx a problem')
    t.ok([...seen.keys()].some((status) => status < 300) && [...seen.keys()].some((status) => status >= 400), 'both successes and refusals')
  })
}
