import { buildApp } from './app.ts'
import { ConfigError, loadConfig } from './config.ts'

// `npm start`: PGlite under DATA_DIR unless DATABASE_URL is set; migrations applied at startup.

async function main() {
  let config
  try {
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
  await app.listen({ host: config.host, port: config.port })
  app.log.info({ database: app.databaseKind, startupMs: Math.round(performance.now() - started) }, 'ready')

  let closing = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (closing) return
      closing = true
      app.log.info({ signal }, 'shutting down: draining in-flight requests')
      // Keep-alive sockets of requests that were in flight become idle after their answer; close
      // them as they do instead of waiting for the keep-alive timeout.
      setInterval(() => app.server.closeIdleConnections(), 100).unref()
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          app.log.error({ err: error }, 'shutdown failed')
          process.exit(1)
        },
      )
    })
  }
}

await main()
