import { randomUUID } from 'node:crypto'
import t from 'tap'
import { PROBLEM_SLUGS, PROBLEM_TYPES } from '../../src/http/problem.ts'
import { assertProblem, startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// Problem `type`s are addresses this API serves, and every answer names its request id.

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'

for (const engine of engines) {
  t.test(engine, async (t) => {
    const api = await startApp(t, engine)

    t.test('every registered problem type is served, as JSON by default', async (t) => {
      for (const slug of PROBLEM_SLUGS) {
        const res = await api.request({ url: `/problems/${slug}` })
        t.equal(res.statusCode, 200, slug)
        t.match(res.headers['content-type'], /^application\/json/)
        t.match(res.headers.vary, /accept/i)
        t.same(res.json(), { type: `/problems/${slug}`, ...PROBLEM_TYPES[slug] })
      }
      const index = await api.request({ url: '/problems', headers: { accept: 'application/json' } })
      t.same(
        index.json().map((problem: { type: string }) => problem.type),
        PROBLEM_SLUGS.map((slug) => `/problems/${slug}`),
      )
    })

    t.test('and as a page for a browser, escaped', async (t) => {
      const res = await api.request({ url: '/problems/unauthorized', headers: { accept: BROWSER_ACCEPT } })
      t.equal(res.statusCode, 200)
      t.match(res.headers['content-type'], /^text\/html/)
      t.match(res.body, '<h1>Authentication required</h1>')
      t.match(res.body, '<code>Authorization: Bearer &lt;token&gt;</code>', 'markup in the text is escaped')
      t.notMatch(res.body, '<token>')
      const index = await api.request({ url: '/problems', headers: { accept: BROWSER_ACCEPT } })
      for (const slug of PROBLEM_SLUGS) t.match(index.body, `<a href="/problems/${slug}">`)
      const json = await api.request({ url: '/problems/forbidden', headers: { accept: 'text/html;q=0.5, application/json' } })
      t.match(json.headers['content-type'], /^application\/json/, 'q-values decide')
    })

    t.test('an unknown type is a 404 problem, a malformed one a 400', async (t) => {
      assertProblem(t, await api.request({ url: '/problems/no-such-problem' }), 404, 'not-found')
      assertProblem(t, await api.request({ url: '/problems/Not_A_Slug' }), 400, 'validation-error')
    })

    t.test('problem types resolve against the request URL to this server', async (t) => {
      const member = await api.user()
      const res = await api.request({ url: '/api/projects/2000000000', as: member })
      const body = assertProblem(t, res, 404, 'not-found')
      const resolved = new URL(body.type, `http://api.example:8080${body.instance}`)
      t.equal(resolved.href, 'http://api.example:8080/problems/not-found')
      t.equal((await api.request({ url: resolved.pathname })).statusCode, 200)
    })

    t.test('every answer carries x-request-id; problem bodies name it too', async (t) => {
      for (const url of ['/health', '/problems', '/docs/json', '/no/such/route', '/api/projects']) {
        const res = await api.request({ url })
        t.match(res.headers['x-request-id'], /^\S+$/, `${url} (${res.statusCode})`)
      }
      const unauthenticated = await api.request({ url: '/api/projects' })
      t.equal(assertProblem(t, unauthenticated, 401, 'unauthorized').requestId, unauthenticated.headers['x-request-id'])
      const incoming = randomUUID()
      const echoed = await api.request({ url: '/api/tasks', headers: { 'x-request-id': incoming } })
      t.equal(echoed.headers['x-request-id'], incoming, 'a sane incoming id is echoed')
      t.equal(echoed.json().requestId, incoming)
      t.not((await api.request({ url: '/health' })).headers['x-request-id'], incoming, 'one id per request')
    })
  })
}

t.test('browsers on an allowed origin may read x-request-id', async (t) => {
  const api = await startApp(t, 'pglite', { corsOrigins: ['https://app.example'] })
  const res = await api.request({ url: '/health', headers: { origin: 'https://app.example' } })
  t.match(res.headers['access-control-expose-headers'], /x-request-id/)
})
