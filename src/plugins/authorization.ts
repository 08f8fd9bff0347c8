import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Authorizer, DeniedError } from '../authz/authorizer.ts'
import { AuditLog } from '../policy/audit-log.ts'
import { readPoliciesDir } from '../policy/files.ts'
import { reportPoliciesDir } from '../policy/policies-dir-drift.ts'
import { PolicyStore } from '../policy/versions.ts'

declare module 'fastify' {
  interface FastifyInstance {
    policies: PolicyStore
    audit: AuditLog
  }
  interface FastifyRequest {
    /** The caller's authorizer, built on first use from the policy version active at that moment. */
    readonly authz: Authorizer
  }
}

const authorizers = new WeakMap<FastifyRequest, Authorizer>()

async function authorization(fastify: FastifyInstance) {
  const { policiesDir } = fastify.config
  // The files in policies/ are version 1 of a new database. An invalid policy stops the server
  // here: fail closed, never serve a partially understood policy.
  const store = await PolicyStore.open(fastify.db, () => readPoliciesDir(policiesDir), fastify.log)
  reportPoliciesDir(policiesDir, store.snapshot, fastify.log)
  // Only PostgreSQL is shared by instances: an embedded database has one process, which swaps at once.
  if (fastify.databaseKind === 'postgres') await store.follow(fastify.notifications)
  fastify.decorate('policies', store)
  const audit = new AuditLog(fastify.db, fastify.log)
  fastify.decorate('audit', audit)
  fastify.addHook('onClose', async () => {
    await audit.flush()
    await store.close()
  })

  fastify.decorateRequest('authz', {
    getter(this: FastifyRequest) {
      let authorizer = authorizers.get(this)
      if (!authorizer) {
        // One snapshot per request: it is evaluated against exactly one version.
        const compiled = store.current
        authorizer = new Authorizer(compiled.abilityFor(this.account), compiled, this.account, fastify.db)
        authorizers.set(this, authorizer)
      }
      return authorizer
    },
  })

  // Every refusal, and every probe of an object the caller may not see, is recorded.
  fastify.addHook('onError', async (request, _reply, error) => {
    if (!(error instanceof DeniedError)) return
    const { decision, context } = error
    if (decision.status === 404 && !decision.hidden) return
    if (decision.status === 400) return
    audit.record({
      kind: 'request.denied',
      userId: request.account.id,
      username: request.account.username,
      action: context.action,
      subject: context.subject,
      objectId: context.objectId,
      ruleId: decision.ruleId,
      policyVersion: request.authz.policyVersion,
      requestId: request.id,
      status: decision.status,
      detail: { method: request.method, url: request.url, reason: decision.detail },
      createdAt: new Date(),
    })
  })
}

export default fp(authorization, { name: 'authorization', dependencies: ['config', 'database', 'auth'] })
