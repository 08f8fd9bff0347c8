import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { protectedErrors } from '../schemas.ts'

const me: FastifyPluginAsyncTypebox = async (fastify) => {
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
}

export default me
