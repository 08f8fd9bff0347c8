import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig, loadDotEnv } from './config.ts'

// The server process. `npm start` runs its compiled form (dist/server/server.js, plain node, as
// the Docker image does), `npm run dev` this file through tsx. PGlite under DATA_DIR unless
// DATABASE_URL is set; migrations applied at startup.

async function main(): Promise<void> {
  let config
  try {
    loadDotEnv()
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`)
      process.exit(2)
    }
    throw error
  }
  const started = performance.now()
  const app = await buildApp(config)

  // SIGTERM/SIGINT drain the requests in flight, then exit 0; an uncaught error is logged and
  // exits 1 after the same drain; past the deadline (or on a second signal) the process exits 1
  // anyway, so that a stuck request never keeps a stopping container alive.
  closeWithGrace(
    { delay: config.shutdownTimeoutSeconds * 1000, logger: { error: (message: unknown) => app.log.error(message) } },
    async ({ signal, err }) => {
      if (err) app.log.fatal({ err }, 'uncaught error: shutting down')
      else app.log.info({ signal }, 'shutting down: draining in-flight requests')
      // Keep-alive sockets of requests that were in flight become idle after their answer; close
      // them as they do instead of waiting for the keep-alive timeout.
      setInterval(() => app.server.closeIdleConnections(), 100).unref()
      await app.close()
    },
  )
  await app.listen({ host: config.host, port: config.port })
  app.log.info({ database: app.databaseKind, startupMs: Math.round(performance.now() - started) }, 'ready')
}

await main()
