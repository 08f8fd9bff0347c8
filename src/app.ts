import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { AppConfig } from './config.ts'
import type { DatabaseDriver } from './db/adapters.ts'
import configPlugin from './plugins/config.ts'
import security from './plugins/security.ts'
import validation from './plugins/validation.ts'
import errors, { frameworkError } from './plugins/errors.ts'
import docs from './plugins/docs.ts'
import requestId, { requestIdFor } from './plugins/request-id.ts'
import database from './plugins/database.ts'
import { openDatabase } from './db/open.ts'
import bootstrapAdmin from './plugins/bootstrap-admin.ts'
import auth from './plugins/auth.ts'
import authorization from './plugins/authorization.ts'
import health from './routes/health/index.ts'
import authRoutes from './routes/auth/index.ts'
import me from './routes/me/index.ts'
import projects from './routes/projects/index.ts'
import tasks from './routes/tasks/index.ts'
import users from './routes/admin/users.ts'
import userAccess from './routes/admin/user-access.ts'
import policies from './routes/admin/policies.ts'
import audit from './routes/admin/audit.ts'
import explain from './routes/explain/index.ts'
import consoleAssets from './routes/console-assets/index.ts'
import problems from './routes/problems/index.ts'

export interface BuildOptions {
  /** An open database driver (tests share one); otherwise opened from `config`. */
  driver?: DatabaseDriver
  logger?: FastifyServerOptions['logger']
  /** Where the built admin console is; dist/console by default. */
  consoleDir?: string
}

const BODY_LIMIT = 64 * 1024

export async function buildApp(config: AppConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.body.password', '*.password', '*.accessToken'],
    },
    bodyLimit: BODY_LIMIT,
    // Fastify would take any x-request-id as is; ours is read by genReqId, which checks it.
    requestIdHeader: false,
    // A hop count is valid at runtime (proxy-addr) though the types list only boolean, string and function.
    trustProxy: config.trustProxy as boolean | string,
    genReqId: requestIdFor,
    frameworkErrors: frameworkError,
  }).withTypeProvider<TypeBoxTypeProvider>()

  // JSON only: a text/plain body is a 415, not a string handed to the validators.
  app.removeContentTypeParser('text/plain')
  await app.register(configPlugin, { config })
  await app.register(requestId)
  await app.register(security)
  await app.register(validation)
  await app.register(errors)
  await app.register(docs)
  // Before the plugins: Fastify times out a plugin that loads for more than 10 s, and initdb
  // plus migrations on a new embedded database can take longer on a loaded machine.
  const opened = options.driver ? undefined : await openDatabase(config, app.log)
  await app.register(database, { driver: options.driver, opened })
  await app.register(bootstrapAdmin)
  await app.register(auth)
  await app.register(authorization)

  await app.register(health)
  await app.register(problems, { prefix: '/problems' })
  await app.register(
    async (api) => {
      // Every /api route needs a valid token, except those marked public (register, login).
      api.addHook('onRequest', (request) => api.authenticate(request))
      await api.register(authRoutes, { prefix: '/auth' })
      await api.register(me, { prefix: '/me' })
      await api.register(projects, { prefix: '/projects' })
      await api.register(tasks, { prefix: '/tasks' })
      await api.register(users, { prefix: '/admin/users' })
      await api.register(userAccess, { prefix: '/admin/users' })
      await api.register(policies, { prefix: '/admin/policies' })
      await api.register(audit, { prefix: '/admin/audit' })
      await api.register(explain, { prefix: '/authz' })
    },
    { prefix: '/api' },
  )
  await app.register(consoleAssets, { prefix: '/admin', dir: options.consoleDir })
  return app
}
