import type { TestApp } from './app.ts'

// The routes the API documents (from its OpenAPI document), so security tests cover every route,
// new ones included, and a valid body per write route so validation is not what answers.

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'
export interface Route {
  path: string
  method: Method
  key: string
}

export const SAMPLE_BODIES: Record<string, object> = {
  'post /api/auth/register': { username: 'sample_user', password: 'sample password' },
  'post /api/auth/login': { username: 'sample_user', password: 'sample password' },
  'post /api/me/password': { currentPassword: 'sample password', newPassword: 'another sample password' },
  'post /api/projects': { name: 'sample' },
  'patch /api/projects/{id}': { name: 'taken over' },
  'post /api/projects/{id}/members': { username: 'sample_user', role: 'editor' },
  'patch /api/projects/{id}/members/{userId}': { role: 'editor' },
  'post /api/tasks': { title: 'sample' },
  'patch /api/tasks/{id}': { title: 'taken over' },
  'patch /api/admin/users/{id}': { role: 'admin' },
  'post /api/admin/policies/validate': { rules: [] },
  'put /api/admin/policies': { rules: [] },
  'post /api/admin/policies/rollback': { version: 1 },
  'post /api/authz/explain': { action: 'read', subject: 'Project', id: 1 },
}

export async function documentedRoutes(api: TestApp): Promise<Route[]> {
  const paths = (await api.request({ url: '/docs/json' })).json().paths as Record<string, Partial<Record<Method, unknown>>>
  return Object.entries(paths).flatMap(([path, ops]) =>
    (Object.keys(ops) as Method[]).map((method) => ({ path, method, key: `${method} ${path}` })),
  )
}

/** Everything a request could change, to compare before and after. */
export async function snapshot(api: TestApp): Promise<string> {
  const db = api.app.db
  return JSON.stringify(
    await Promise.all([
      db.user.findMany({ orderBy: { id: 'asc' }, select: { id: true, username: true, role: true, sessionVersion: true } }),
      db.project.findMany({ orderBy: { id: 'asc' } }),
      db.task.findMany({ orderBy: { id: 'asc' } }),
      db.projectMember.findMany({ orderBy: { id: 'asc' } }),
      db.policyVersion.count(),
    ]),
  )
}
