import t from 'tap'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// OWASP API1 (BOLA) and API5 (function level), over every route the API documents: the list of
// routes comes from the OpenAPI document, so a new route is covered (or this test asks for a
// sample body) without anyone remembering to add it.

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'

/** A valid body per write route, so validation passes and the authorization answer is what is seen. */
const BODIES: Record<string, object> = {
  'patch /api/projects/{id}': { name: 'taken over' },
  'patch /api/tasks/{id}': { title: 'taken over' },
  'patch /api/admin/users/{id}': { role: 'admin' },
  'post /api/admin/policies/validate': { rules: [] },
  'put /api/admin/policies': { rules: [] },
  'post /api/admin/policies/rollback': { version: 1 },
}

for (const engine of engines.slice(-1)) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const alice = await api.user('member')
    const bob = await api.user('member')
    const auditor = await api.user('auditor')
    const project = (await api.request({ method: 'POST', url: '/api/projects', as: bob, payload: { name: "bob's" } })).json()
    const task = (await api.request({ method: 'POST', url: '/api/tasks', as: bob, payload: { projectId: project.id, title: "bob's" } })).json()
    const paths = (await api.request({ url: '/docs/json' })).json().paths as Record<string, Partial<Record<Method, unknown>>>
    const routes = Object.entries(paths).flatMap(([path, ops]) => (Object.keys(ops) as Method[]).map((method) => ({ path, method, key: `${method} ${path}` })))
    t.ok(routes.length >= 20, `${routes.length} documented routes`)

    const snapshot = async () => {
      const db = api.app.db
      return JSON.stringify(await Promise.all([db.user.findMany({ orderBy: { id: 'asc' }, select: { id: true, role: true } }), db.project.findMany({ orderBy: { id: 'asc' } }), db.task.findMany({ orderBy: { id: 'asc' } }), db.policyVersion.count()]))
    }

    t.test("API1 BOLA: every :id route with another member's object", async (t) => {
      const idOf: Record<string, number> = { '/api/projects/': project.id, '/api/tasks/': task.id, '/api/admin/users/': bob.id }
      const objectRoutes = routes.filter((r) => r.path.includes('{id}'))
      t.ok(objectRoutes.length >= 8, `${objectRoutes.length} object routes`)
      for (const route of objectRoutes) {
        const prefix = Object.keys(idOf).find((p) => route.path.startsWith(p))
        t.ok(prefix, `${route.key}: a foreign object to try`)
        if (!prefix) continue
        const before = await snapshot()
        const res = await api.request({ method: route.method.toUpperCase() as 'GET', url: route.path.replace('{id}', String(idOf[prefix])), as: alice, payload: BODIES[route.key] })
        t.ok(res.statusCode === 404 || res.statusCode === 403, `${route.key} as another member: ${res.statusCode}`)
        t.equal(await snapshot(), before, `${route.key}: nothing changed`)
      }
    })

    t.test('API5 function level: every admin route refused to members and auditors', async (t) => {
      const adminRoutes = routes.filter((r) => r.path.startsWith('/api/admin'))
      t.ok(adminRoutes.length >= 9, `${adminRoutes.length} admin routes`)
      for (const route of adminRoutes) {
        if (route.method !== 'get' && route.method !== 'delete') t.ok(BODIES[route.key], `${route.key}: has a sample body`)
        for (const caller of [alice, auditor]) {
          const before = await snapshot()
          const url = route.path.replace('{id}', String(bob.id)).replace('{v}', '1')
          const res = await api.request({ method: route.method.toUpperCase() as 'GET', url, as: caller, payload: BODIES[route.key], headers: { 'if-match': '"1"' } })
          t.equal(res.statusCode, 403, `${route.key} as ${caller.role}`)
          t.equal(await snapshot(), before, `${route.key} as ${caller.role}: nothing changed`)
        }
      }
    })
  })
}
