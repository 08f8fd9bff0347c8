import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { checkCredentials } from '../../auth/accounts.ts'
import { LoginGuard } from '../../auth/login-guard.ts'
import { hashPassword } from '../../auth/password.ts'
import { HttpProblem } from '../../http/problem.ts'
import { ProblemSchema, protectedErrors } from '../schemas.ts'
import { tooManyLoginFailures } from '../auth/limits.ts'
import { Token } from '../auth/schema.ts'
import { PasswordChange } from './schema.ts'

const me: FastifyPluginAsyncTypebox = async (fastify) => {
  const { db, config } = fastify
  // A stolen token must not become a way to guess the password: guesses here count as failed logins.
  const guard = new LoginGuard(db, config)

  fastify.get('', {
    schema: {
      tags: ['auth'],
      operationId: 'getMe',
      summary: 'The caller and their CASL rules',
      description:
        'rules are packed with @casl/ability `packRules`, placeholders resolved: `unpackRules` + `createPrismaAbility` rebuild the same ability.',
      response: {
        200: Type.Object({
          id: Type.Integer(),
          username: Type.String(),
          role: Type.String(),
          policyVersion: Type.Integer(),
          rules: Type.Array(Type.Array(Type.Unknown())),
        }),
        401: protectedErrors[401],
      },
    },
    handler: async (request) => {
      const policy = request.authz.compiled
      return { ...request.account, policyVersion: policy.version, rules: policy.packedRulesFor(request.account) as unknown[][] }
    },
  })

  fastify.post('/password', {
    schema: {
      tags: ['auth'],
      operationId: 'changePassword',
      summary: 'Change your password',
      description:
        'Every token issued before, on every device, stops working; the answer carries a new one. A wrong `currentPassword` is a 400 and counts as a failed login (429 with Retry-After when there were too many).',
      body: PasswordChange,
      response: { 200: Token, 401: protectedErrors[401], 400: ProblemSchema, 429: ProblemSchema },
    },
    handler: async (request) => {
      const { currentPassword, newPassword } = request.body
      const { username, id } = request.account
      const attempt = await guard.attempt(username, request.ip)
      if (attempt.blocked) throw tooManyLoginFailures(attempt.blocked)
      if (!(await checkCredentials(db, username, currentPassword, config.passwordCost))) {
        throw new HttpProblem(400, 'invalid-current-password', 'The current password is wrong.', {
          errors: [{ field: 'currentPassword', in: 'body', message: 'is not your current password' }],
        })
      }
      await attempt.succeeded()
      const user = await db.user.update({
        where: { id },
        data: { passwordHash: await hashPassword(newPassword, config.passwordCost), sessionVersion: { increment: 1 } },
        select: { id: true, sessionVersion: true },
      })
      fastify.accountCache.forget(id)
      return fastify.issueToken(user)
    },
  })
}

export default me
