import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Authorizer } from '../authz/authorizer.ts'
import { readPolicyDir } from '../authz/policy.ts'
import { PolicyStore } from '../authz/store.ts'

declare module 'fastify' {
  interface FastifyInstance {
    policies: PolicyStore
  }
  interface FastifyRequest {
    /** The caller's authorizer, built on first use from the active policy version. */
    readonly authz: Authorizer
  }
}

const authorizers = new WeakMap<FastifyRequest, Authorizer>()

async function authorization(fastify: FastifyInstance) {
  // Invalid rules stop the server here: fail closed, never serve a partially understood policy.
  fastify.decorate('policies', new PolicyStore(readPolicyDir(fastify.config.policiesDir)))

  fastify.decorateRequest('authz', {
    getter(this: FastifyRequest) {
      let authorizer = authorizers.get(this)
      if (!authorizer) {
        const policy = fastify.policies.current
        authorizer = new Authorizer(policy.abilityFor(this.account), policy, this.account)
        authorizers.set(this, authorizer)
      }
      return authorizer
    },
  })
}

export default fp(authorization, { name: 'authorization', dependencies: ['config', 'auth'] })
