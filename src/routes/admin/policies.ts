import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { rowsToData, type DecisionRowData } from '../../authz/decision-table.ts'
import { activateProposal, checkProposal, expectedVersion, impactOf, lockoutReason, tableReport } from '../../authz/policy-admin.ts'
import { diffRules, type PolicyRule } from '../../authz/policy-set.ts'
import type { ActivePolicy } from '../../authz/store.ts'
import { HttpProblem } from '../../lib/problem.ts'
import { listPage, orderBy, page, ProblemSchema, protectedErrors, type ListQuery } from '../schemas.ts'
import { PolicyBody, ProposalBody, RollbackBody, ValidationReport, VersionDetail, VersionListQuery, VersionParams, VersionSummary } from './policies-schema.ts'

// The policy at runtime: read it, validate a proposal against live data, activate it with
// optimistic concurrency (If-Match), roll back. Who may do this is the policy's answer for
// subject PolicyVersion.

const refusals = { ...protectedErrors, 409: ProblemSchema, 422: ProblemSchema, 428: ProblemSchema }

function sendActive(reply: FastifyReply, active: ActivePolicy) {
  return reply.header('etag', `"${active.version}"`).send({ version: active.version, rules: active.rules, table: rowsToData(active.table) })
}

const versionSelect = { version: true, author: true, createdAt: true, message: true } as const
const toSummary = (row: { version: number; author: string; createdAt: Date; message: string }) => ({ ...row, createdAt: row.createdAt.toISOString() })
const author = (request: FastifyRequest) => ({ id: request.account.id, username: request.account.username })

const policies: FastifyPluginAsyncTypebox = async (fastify) => {
  const { db, policies: store } = fastify

  fastify.get('', {
    schema: { tags: ['policy'], summary: 'The active policy version (ETag: its version)', response: { 200: PolicyBody, ...protectedErrors } },
    handler: async (request, reply) => {
      request.authz.assertAccess('read', 'PolicyVersion')
      return sendActive(reply, store.snapshot)
    },
  })

  fastify.get('/versions', {
    schema: { tags: ['policy'], summary: 'Version history', querystring: VersionListQuery, response: { 200: page(VersionSummary), ...protectedErrors } },
    handler: async (request) => {
      const query = request.query as ListQuery
      const where = request.authz.where('read', 'PolicyVersion')
      return listPage(
        db.policyVersion.findMany({ where, select: versionSelect, orderBy: orderBy(query.ordering, 'version'), skip: query.offset, take: query.limit }),
        db.policyVersion.count({ where }),
        query,
        toSummary,
      )
    },
  })

  fastify.get('/versions/:v', {
    schema: { tags: ['policy'], summary: 'One version, with its rules and decision table', params: VersionParams, response: { 200: VersionDetail, ...protectedErrors } },
    handler: async (request) => {
      const row = await db.policyVersion.findFirst({ where: { AND: [request.authz.where('read', 'PolicyVersion'), { version: request.params.v }] } })
      if (!row) throw new HttpProblem(404, 'not-found', `Policy version ${request.params.v} not found.`)
      return { ...toSummary(row), rules: row.rules as PolicyRule[], table: row.table as DecisionRowData[] }
    },
  })

  fastify.post('/validate', {
    schema: {
      tags: ['policy'],
      summary: 'Validate a proposed policy: errors, decision table, flipped rows, impact on live data. Changes nothing.',
      body: ProposalBody,
      response: { 200: ValidationReport, ...protectedErrors },
    },
    handler: async (request) => {
      request.authz.assertAccess('create', 'PolicyVersion')
      const active = store.snapshot
      const checked = checkProposal(request.body, active)
      const valid = checked.errors.length === 0
      return {
        valid,
        errors: checked.errors,
        table: checked.results ? tableReport(checked.results) : null,
        flips: checked.flips,
        impact: valid ? await impactOf(db, active.policy, checked.compiled!) : null,
        lockout: valid ? await lockoutReason(db, checked.compiled!, active.policy) : null,
        rules: diffRules(active.rules, request.body.rules),
      }
    },
  })

  fastify.put('', {
    schema: {
      tags: ['policy'],
      summary: 'Activate a new policy version',
      description:
        'Needs `If-Match: "<version>"` (428 without, 409 when stale). 400 `policy-invalid`, 422 `decision-table-failed` (send an updated `table` the new rules pass), 422 `policy-lockout`.',
      headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
      body: ProposalBody,
      response: { 200: PolicyBody, ...refusals },
    },
    handler: async (request, reply) => {
      request.authz.assertAccess('create', 'PolicyVersion')
      const basedOn = expectedVersion(request.headers['if-match'])
      return sendActive(reply, await activateProposal(db, store, request.body, basedOn, author(request)))
    },
  })

  fastify.post('/rollback', {
    schema: {
      tags: ['policy'],
      summary: 'Activate the rules and table of an earlier version, as a new version',
      body: RollbackBody,
      response: { 200: PolicyBody, ...refusals },
    },
    handler: async (request, reply) => {
      request.authz.assertAccess('create', 'PolicyVersion')
      const old = await db.policyVersion.findUnique({ where: { version: request.body.version } })
      if (!old) throw new HttpProblem(404, 'not-found', `Policy version ${request.body.version} not found.`)
      const proposal = {
        rules: old.rules as PolicyRule[],
        table: old.table as DecisionRowData[],
        message: request.body.message ?? `Rollback to version ${old.version}`,
      }
      const active = await activateProposal(db, store, proposal, store.snapshot.version, author(request), 'policy.rollback')
      return sendActive(reply, active)
    },
  })
}

export default policies
