import createClient from 'openapi-fetch'
import type { components, paths } from './api.ts'

// A client written only against the types generated from /docs/json (./api.ts is generated next
// to this file by test/contract/openapi.test.ts, which type-checks this file with tsc and runs it).
// It plays the tutorial's scenarios and returns what it saw.

type Problem = components['schemas']['Problem']
type ProjectCreate = components['schemas']['ProjectCreate']

export interface Seen<T> {
  status: number
  contentType: string | null
  requestId: string | null
  body: T | undefined
}

function seen<T>(result: { data?: T; error?: Problem; response: Response }): Seen<T | Problem> {
  return {
    status: result.response.status,
    contentType: result.response.headers.get('content-type'),
    requestId: result.response.headers.get('x-request-id'),
    body: result.data ?? result.error,
  }
}

export async function tutorial(baseUrl: string, suffix: string) {
  const api = createClient<paths>({ baseUrl })
  const alice = { username: `alice_${suffix}`, password: 'alice-secret' }
  const bob = { username: `bob_${suffix}`, password: 'bob-secret!' }

  const registered = [await api.POST('/api/auth/register', { body: alice }), await api.POST('/api/auth/register', { body: bob })]
  const loginA = await api.POST('/api/auth/login', { body: alice })
  const loginB = await api.POST('/api/auth/login', { body: bob })
  if (!loginA.data || !loginB.data) throw new Error(`login failed: ${JSON.stringify([loginA.error, loginB.error])}`)
  const asA = { headers: { authorization: `Bearer ${loginA.data.accessToken}` } }
  const asB = { headers: { authorization: `Bearer ${loginB.data.accessToken}` } }

  const projectA = await api.POST('/api/projects', { ...asA, body: { name: 'Project A' } })
  const projectB = await api.POST('/api/projects', { ...asB, body: { name: 'Project B' } })
  if (!projectA.data || !projectB.data) throw new Error('creating the projects failed')
  const a = projectA.data
  const b = projectB.data

  // No query parameters: limit, offset and ordering have defaults, so the types do not ask for them.
  const listA = await api.GET('/api/projects', asA)
  const bobsProjectForA = await api.GET('/api/projects/{id}', { ...asA, params: { path: { id: b.id } } })
  const taskInB = await api.POST('/api/tasks', { ...asA, body: { projectId: b.id, title: 'Unauthorized task' } })
  const mine = await api.POST('/api/tasks', { ...asA, body: { projectId: a.id, title: 'Mine' } })
  if (!mine.data) throw new Error('creating a task failed')
  const moved = await api.PATCH('/api/tasks/{id}', { ...asA, params: { path: { id: mine.data.id } }, body: { projectId: b.id } })
  const tasksOfA = await api.GET('/api/projects/{id}/tasks', { ...asA, params: { path: { id: a.id }, query: { ordering: '-createdAt' } } })

  // The generated types refuse a body naming its owner (this line fails to compile otherwise)…
  // @ts-expect-error ownerId is not part of ProjectCreate
  const _refused: ProjectCreate = { name: 'x', ownerId: b.ownerId }
  // …and so does the server, for a client that sends it anyway.
  const smuggled: ProjectCreate = JSON.parse(JSON.stringify({ name: 'Smuggled', ownerId: b.ownerId })) as ProjectCreate
  const withOwner = await api.POST('/api/projects', { ...asA, body: smuggled })

  return {
    registered: registered.map(seen),
    projectA: a,
    projectB: b,
    listA: seen(listA),
    bobsProjectForA: seen(bobsProjectForA),
    taskInB: seen(taskInB),
    moved: seen(moved),
    tasksOfA: seen(tasksOfA),
    withOwner: seen(withOwner),
  }
}
