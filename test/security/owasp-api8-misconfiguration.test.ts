import t from 'tap'
import { assertProblem, startApp } from '../helpers/app.ts'

// OWASP API8 (security misconfiguration) and API4 (unrestricted resource consumption): headers,
// CORS, and bodies built to hurt the parser.

t.test('security headers; CORS only for configured origins; deep and odd JSON is a clean 4xx', async (t) => {
  const closed = await startApp(t, 'pglite')
  const res = await closed.request({ url: '/health', headers: { origin: 'https://evil.example' } })
  t.match(res.headers['content-security-policy'], /default-src 'self'/)
  t.equal(res.headers['x-content-type-options'], 'nosniff')
  t.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS by default')
  const open = await startApp(t, 'pglite', { corsOrigins: ['https://app.example'] })
  const preflight = await open.request({
    method: 'OPTIONS',
    url: '/api/projects',
    headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
  })
  t.equal(preflight.headers['access-control-allow-origin'], 'https://app.example')
  const foreign = await open.request({ url: '/health', headers: { origin: 'https://evil.example' } })
  t.not(foreign.headers['access-control-allow-origin'], 'https://evil.example')
  const user = await closed.user()
  const deep = '{"name":' + '['.repeat(5000) + ']'.repeat(5000) + '}'
  for (const payload of [deep, '{"name":"a","__proto__":{"admin":true}}']) {
    const headers = { 'content-type': 'application/json' }
    assertProblem(t, await closed.request({ method: 'POST', url: '/api/projects', as: user, headers, payload }), 400)
  }
  t.equal(await closed.app.db.project.count(), 0)
})
