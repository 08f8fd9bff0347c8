import t from 'tap'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.ts'
import { projectRoot } from '../../src/project-root.ts'
import { assertProblem, startApp } from '../helpers/app.ts'

// The console's source maps are its source: not served unless a development setup asks for them.

const assets = readdirSync(join(projectRoot, 'dist', 'console', 'assets'))
const maps = assets.filter((file) => file.endsWith('.map'))

t.test('the build has source maps for the script and the stylesheet', async (t) => {
  t.equal(maps.length, 2, maps.join(', '))
})

t.test('not served by default', async (t) => {
  const api = await startApp(t, 'pglite')
  for (const map of maps) assertProblem(t, await api.request({ url: `/admin/assets/${map}` }), 404)
  const script = assets.find((file) => file.endsWith('.js'))!
  t.equal((await api.request({ url: `/admin/assets/${script}` })).statusCode, 200, 'the script itself is')
})

t.test('served when CONSOLE_SOURCE_MAPS=true', async (t) => {
  const api = await startApp(t, 'pglite', loadConfig({ JWT_SECRET: 'x'.repeat(32), CONSOLE_SOURCE_MAPS: 'true' }))
  for (const map of maps) {
    const res = await api.request({ url: `/admin/assets/${map}` })
    t.equal(res.statusCode, 200, map)
    t.match(res.json(), { version: 3 })
  }
})

t.test('refused in production', async (t) => {
  t.throws(
    () => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), CONSOLE_SOURCE_MAPS: 'true' }),
    /CONSOLE_SOURCE_MAPS is for development/,
  )
  t.throws(() => loadConfig({ CONSOLE_SOURCE_MAPS: 'yes' }), /CONSOLE_SOURCE_MAPS must be true or false/)
})
