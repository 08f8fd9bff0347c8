import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DEFAULT_ROLE } from '../../shared/roles.ts'
import { HttpProblem } from '../../http/problem.ts'
import { checkCredentials, normalizeUsername } from '../../auth/accounts.ts'
import { clientAddress, LoginGuard } from '../../auth/login-guard.ts'
import { hashPassword } from '../../auth/password.ts'
import { overLimit, RateLimiter } from '../../auth/rate-limit.ts'
import { ProblemSchema } from '../schemas.ts'
import { tooMany, tooManyLoginFailures } from './limits.ts'
import { Account, Credentials, Token } from './schema.ts'

// Accounts are not protected data: anyone may register; a body can never choose a role.
// Both routes hash with scrypt, deliberately slow: attempts are counted per client address (and
// logins per username at an address too) before any hashing, in counters every instance shares.
const auth: FastifyPluginAsyncTypebox = async (fastify) => {
  const { db, config } = fastify
  const limiter = new RateLimiter(db)
  const guard = new LoginGuard(db, config)

  fastify.post('/register', {
    config: { public: true },
    schema: {
      tags: ['auth'],
      summary: 'Create an account (role member)',
      description: `Usernames are one account whatever their case. Limited per client address (429 with Retry-After).`,
      security: [],
      body: Credentials,
      response: { 201: Account, 400: ProblemSchema, 409: ProblemSchema, 429: ProblemSchema },
    },
    handler: async (request, reply) => {
      const key = `register ${clientAddress(request.ip)}`
      const over = overLimit(await limiter.hit([key], config.registerWindowSeconds), [[key, config.registerMaxPerAddress]])
      if (over) throw tooMany('too-many-registrations', 'Too many registrations from your address', over)
      const { password } = request.body
      const username = normalizeUsername(request.body.username)
      const passwordHash = await hashPassword(password, config.passwordCost)
      try {
        const user = await db.user.create({
          data: { username, passwordHash, role: DEFAULT_ROLE },
          select: { id: true, username: true, role: true },
        })
        return await reply.code(201).send(user)
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002') {
          throw new HttpProblem(409, 'username-taken', 'This username is already taken.', {
            errors: [{ field: 'username', message: 'is already taken' }],
          })
        }
        throw error
      }
    },
  })

  fastify.post('/login', {
    config: { public: true },
    schema: {
      tags: ['auth'],
      summary: 'Exchange credentials for a bearer token',
      description: 'The username in any case. Failed logins are limited per username at an address and per address (429 with Retry-After).',
      security: [],
      body: Credentials,
      response: { 200: Token, 400: ProblemSchema, 401: ProblemSchema, 429: ProblemSchema },
    },
    handler: async (request) => {
      const { username, password } = request.body
      const attempt = await guard.attempt(username, request.ip)
      if (attempt.blocked) throw tooManyLoginFailures(attempt.blocked)
      const user = await checkCredentials(db, username, password, config.passwordCost)
      if (!user) throw new HttpProblem(401, 'invalid-credentials', 'The username or password is wrong.')
      await attempt.succeeded()
      return fastify.issueToken(user)
    },
  })
}

export default auth
