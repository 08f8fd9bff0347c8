import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { HttpProblem } from '../../http/problem.ts'
import { projectRoot } from '../../project-root.ts'

// The admin console: a static page (built by scripts/build-console.ts) that talks to /api with
// the admin's token. The page itself is public; every action it takes is authorized by the API.

/** Stricter than the API's default: only this origin's scripts, styles and API, no inline code, no HTML from strings. */
const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  // No string ever becomes markup or script (React sets text, never innerHTML).
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ')

export interface ConsoleOptions {
  /** The built console; dist/console unless told otherwise. */
  dir?: string
}

const consoleRoutes: FastifyPluginAsync<ConsoleOptions> = async (fastify, options) => {
  const dir = options.dir ?? join(projectRoot, 'dist', 'console')

  fastify.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CONSOLE_CSP)
  })

  if (!existsSync(join(dir, 'index.html'))) {
    fastify.log.warn({ dir }, 'admin console not built; run `npm run build:console`')
    const notBuilt = async () => {
      throw new HttpProblem(503, 'console-not-built', 'The admin console is not built: run `npm run build:console` (npm start does it).')
    }
    fastify.get('/', { schema: { hide: true } }, notBuilt)
    fastify.get('/*', { schema: { hide: true } }, notBuilt)
    return
  }

  await fastify.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: ['index.html'],
    wildcard: false,
    cacheControl: false,
    preCompressed: true,
    // Source maps hand out the console's source; only a development setup opts in to them.
    allowedPath: (path) => fastify.config.consoleSourceMaps || !path.endsWith('.map'),
    setHeaders(response, path) {
      // Assets carry a content hash in their name; the page does not, so it is always revalidated.
      const isPage = /index\.html(\.br|\.gz)?$/.test(path)
      response.setHeader('cache-control', isPage ? 'no-cache' : 'public, max-age=31536000, immutable')
      // Served brotli/gzip/plain by Accept-Encoding, so caches must key on it.
      response.setHeader('vary', 'accept-encoding')
    },
  })
}

export default consoleRoutes
