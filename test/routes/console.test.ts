import t, { type Test } from 'tap'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { buildConsole } from '../../scripts/build-console.ts'
import { assertProblem, TEST_SECRET } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/databases.ts'

// How the admin console is served: one page, hashed assets, a strict CSP, and a clear problem
// (not a crash) when it has not been built.

async function appWithConsole(t: Test, consoleDir: string) {
  const database = await createTestDatabase('pglite')
  const app = await buildApp(
    { ...loadConfig({ JWT_SECRET: TEST_SECRET }), databaseUrl: database.url },
    { driver: database.driver, logger: false, consoleDir },
  )
  t.teardown(async () => {
    await app.close()
    await database.drop()
  })
  return app
}

t.test('the built console', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'console-build-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await buildConsole(join(dir, 'console'))
  const app = await appWithConsole(t, join(dir, 'console'))
  const assets = await readdir(join(dir, 'console', 'assets'))
  const script = assets.find((file) => /^app-[A-Z0-9]+\.js$/.test(file))!
  const style = assets.find((file) => /^app-[A-Z0-9]+\.css$/.test(file))!

  for (const url of ['/admin', '/admin/']) {
    const page = await app.inject({ url })
    t.equal(page.statusCode, 200, url)
    t.match(page.headers['content-type'], /^text\/html/)
    t.equal(page.headers['cache-control'], 'no-cache', 'the page is revalidated, so a new build shows at once')
    t.equal(
      page.headers['content-security-policy'],
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
    )
    t.match(page.body, `<script type="module" src="/admin/assets/${script}"></script>`)
    t.match(page.body, `<link rel="stylesheet" href="/admin/assets/${style}">`)
    t.notMatch(page.body, /<script>|<style|style=|https?:\/\/(?!www\.w3)/, 'no inline script or style, nothing from elsewhere')
  }

  for (const encoding of ['br', 'gzip']) {
    const page = await app.inject({ url: '/admin/', headers: { 'accept-encoding': encoding } })
    t.equal(page.statusCode, 200, `the page, to a browser that accepts ${encoding}`)
    t.equal(page.headers['content-encoding'], encoding)
    t.equal(page.headers['cache-control'], 'no-cache')
    t.match(page.headers['content-security-policy'], /^default-src 'none'/)
  }

  const js = await app.inject({ url: `/admin/assets/${script}` })
  t.equal(js.statusCode, 200)
  t.match(js.headers['content-type'], /javascript/)
  t.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable', 'hashed assets are cached for good')
  t.notMatch(js.body, /https?:\/\/(cdn|unpkg|fonts)\./, 'no CDN')
  const brotli = await app.inject({ url: `/admin/assets/${script}`, headers: { 'accept-encoding': 'br, gzip' } })
  t.equal(brotli.headers['content-encoding'], 'br', 'precompressed with brotli')
  t.ok(brotli.rawPayload.length < js.rawPayload.length / 2.5, `${brotli.rawPayload.length} of ${js.rawPayload.length} bytes`)
  t.equal(brotli.headers['cache-control'], 'public, max-age=31536000, immutable')
  t.match(brotli.headers.vary, /accept-encoding/i)
  const gzipped = await app.inject({ url: `/admin/assets/${script}`, headers: { 'accept-encoding': 'gzip' } })
  t.equal(gzipped.headers['content-encoding'], 'gzip')
  const css = await app.inject({ url: `/admin/assets/${style}` })
  t.equal(css.statusCode, 200)
  t.match(css.headers['content-type'], /text\/css/)

  assertProblem(t, await app.inject({ url: '/admin/assets/missing.js' }), 404)
  assertProblem(t, await app.inject({ url: '/admin/../package.json' }), 404)
  assertProblem(t, await app.inject({ url: '/admin/assets/..%2f..%2fpackage.json' }), 404)
  assertProblem(t, await app.inject({ method: 'POST', url: '/admin/' }), 404)

  const api = await app.inject({ url: '/api/me' })
  t.equal(api.statusCode, 401, 'the page is public; the API behind it is not')
  t.match(api.headers['content-security-policy'], /style-src 'self' 'unsafe-inline'/, 'the API keeps its own CSP')
})

t.test('a server without a built console answers 503, not a crash', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'console-empty-'))
  t.teardown(() => rm(empty, { recursive: true, force: true }))
  const app = await appWithConsole(t, empty)
  for (const url of ['/admin', '/admin/', '/admin/assets/app.js']) {
    const body = assertProblem(t, await app.inject({ url }), 503, 'console-not-built')
    t.match(body.detail, /npm run build:console/)
  }
  t.equal((await app.inject({ url: '/health' })).statusCode, 200, 'the API still serves')
})
