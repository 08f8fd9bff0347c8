import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { AccountCache } from '../auth/account-cache.ts'
import { HttpProblem } from '../http/problem.ts'
import type { PolicyUser } from '../authz/placeholders.ts'

declare module 'fastify' {
  interface FastifyInstance {
    issueToken(user: { id: number; sessionVersion: number }): { accessToken: string; tokenType: 'Bearer'; expiresIn: number }
    /** onRequest hook: resolves the bearer token to the current account, or answers 401. */
    authenticate(request: FastifyRequest): Promise<void>
    /** The accounts of recent callers; `forget(id)` after changing one. */
    accountCache: AccountCache
  }
  interface FastifyRequest {
    /** The caller as stored now: a demotion or deletion takes effect on the next request. */
    account: PolicyUser
  }
  interface FastifyContextConfig {
    /** Routes of the API reachable without a token (register, login). */
    public?: boolean
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    /** `sv`: the user's session version at issue; tokens of an older version are refused. */
    payload: { sub: string; sv?: number }
  }
}

const ALGORITHM = 'HS256'

function secretFor(fastify: FastifyInstance): string {
  const { jwtSecret, dataDir } = fastify.config
  if (jwtSecret) return jwtSecret
  // Development only (production refuses to start without JWT_SECRET): keep tokens valid across restarts.
  const file = join(dataDir, 'jwt-secret')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const secret = randomBytes(48).toString('base64url')
  writeFileSync(file, secret, { mode: 0o600 })
  fastify.log.warn({ file }, 'JWT_SECRET is not set: using a generated development secret')
  return secret
}

const unauthorized = (detail: string) => new HttpProblem(401, 'unauthorized', detail, {}, { 'www-authenticate': 'Bearer realm="api"' })

async function auth(fastify: FastifyInstance) {
  await fastify.register(fastifyJwt, {
    secret: secretFor(fastify),
    sign: { algorithm: ALGORITHM, expiresIn: fastify.config.tokenTtlSeconds },
    verify: { algorithms: [ALGORITHM], requiredClaims: ['sub', 'exp'] },
  })

  fastify.decorate('issueToken', (user: { id: number; sessionVersion: number }) => ({
    accessToken: fastify.jwt.sign({ sub: String(user.id), sv: user.sessionVersion }),
    tokenType: 'Bearer' as const,
    expiresIn: fastify.config.tokenTtlSeconds,
  }))

  fastify.decorateRequest('account', null as unknown as PolicyUser)

  const accounts = new AccountCache(
    (id) => fastify.db.user.findUnique({ where: { id }, select: { id: true, username: true, role: true, sessionVersion: true } }),
    fastify.config.accountCacheSize,
  )
  await accounts.follow(fastify.notifications)
  fastify.decorate('accountCache', accounts)

  fastify.decorate('authenticate', async (request: FastifyRequest) => {
    if (request.routeOptions.config.public) return
    const header = request.headers.authorization
    if (!header) throw unauthorized('Authentication required: send "Authorization: Bearer <token>".')
    if (!/^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(header)) {
      throw unauthorized('The Authorization header must be "Bearer <token>".')
    }
    let payload: { sub: string; sv?: number }
    try {
      payload = await request.jwtVerify()
    } catch {
      // Expired, not yet valid, bad signature, wrong algorithm, malformed: one answer.
      throw unauthorized('The access token is invalid or expired.')
    }
    const id = Number(payload.sub)
    // As stored when this request began, whichever instance changed it (see account-cache.ts).
    const user = Number.isSafeInteger(id) && id > 0 ? await accounts.get(id) : null
    // Tokens from before the sessionVersion claim count as version 0, the version nobody revoked.
    if (!user || user.sessionVersion !== (payload.sv ?? 0)) throw unauthorized('The access token is invalid or expired.')
    request.account = { id: user.id, username: user.username, role: user.role }
  })
}

export default fp(auth, { name: 'auth', dependencies: ['config', 'database'] })
