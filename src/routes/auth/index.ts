import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DEFAULT_ROLE } from '../../shared/roles.ts'
import { HttpProblem } from '../../http/problem.ts'
import { LoginThrottle } from '../../auth/login-throttle.ts'
import { decoyHash, hashPassword, verifyPassword } from '../../auth/password.ts'
import { ProblemSchema } from '../schemas.ts'
import { Account, Credentials, Token } from './schema.ts'

// Accounts are not protected data: anyone may register; a body can never choose a role.
const auth: FastifyPluginAsyncTypebox = async (fastify) => {
  const { db } = fastify
  const throttle = new LoginThrottle(fastify.config.loginMaxFailures, fastify.config.loginWindowSeconds * 1000)

  fastify.post('/register', {
    config: { public: true },
    schema: {
      tags: ['auth'],
      operationId: 'register',
      summary: 'Create an account (role member)',
      security: [],
      body: Credentials,
      response: { 201: Account, 400: ProblemSchema, 409: ProblemSchema },
    },
    handler: async (request, reply) => {
      const { username, password } = request.body
      const passwordHash = await hashPassword(password)
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
      operationId: 'login',
      summary: 'Exchange credentials for a bearer token',
      security: [],
      body: Credentials,
      response: { 200: Token, 400: ProblemSchema, 401: ProblemSchema, 429: ProblemSchema },
    },
    handler: async (request) => {
      const { username, password } = request.body
      const wait = throttle.retryAfter(username, request.ip)
      if (wait > 0) {
        throw new HttpProblem(
          429,
          'too-many-login-failures',
          `Too many failed logins for this username from your address; try again in ${wait} s.`,
          {},
          { 'retry-after': String(wait) },
        )
      }
      const user = await db.user.findUnique({ where: { username }, select: { id: true, passwordHash: true } })
      // Hash even for an unknown username: the answer time must not tell which usernames exist.
      const valid = await verifyPassword(password, user?.passwordHash ?? (await decoyHash()))
      if (!user || !valid) {
        throttle.fail(username, request.ip)
        throw new HttpProblem(401, 'invalid-credentials', 'The username or password is wrong.')
      }
      throttle.succeed(username, request.ip)
      return fastify.issueToken(user)
    },
  })
}

export default auth
