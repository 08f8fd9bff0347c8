import t from 'tap'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'
import { documentedRoutes, SAMPLE_BODIES, snapshot } from '../helpers/routes.ts'

// OWASP API5, broken function level authorization: every documented admin route, called by a
// member and by an auditor with a valid request, answers 403 and changes nothing.

for (const engine of engines.slice(-1)) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)
    const member = await api.user('member')
    const auditor = await api.user('auditor')
    const victim = await api.user('member')
    const routes = (await documentedRoutes(api)).filter((route) => route.path.startsWith('/api/admin'))
    t.ok(routes.length >= 9, `${routes.length} admin routes`)
    for (const route of routes) {
      if (route.method !== 'get' && route.method !== 'delete') t.ok(SAMPLE_BODIES[route.key], `${route.key}: has a sample body`)
      for (const caller of [member, auditor]) {
        const before = await snapshot(api)
        const url = route.path.replace('{id}', String(victim.id)).replace('{v}', '1')
        const res = await api.request({
          method: route.method.toUpperCase(),
          url,
          as: caller,
          payload: SAMPLE_BODIES[route.key],
          headers: { 'if-match': '"1"' },
        })
        t.equal(res.statusCode, 403, `${route.key} as ${caller.role}`)
        t.equal(await snapshot(api), before, `${route.key} as ${caller.role}: nothing changed`)
      }
    }
  })
}
