import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { findAccount } from '../../auth/accounts.ts'
import { HttpProblem } from '../../http/problem.ts'
import { IdParams, NoContent, page, ProblemSchema, protectedErrors } from '../schemas.ts'
import {
  Member,
  MemberCreate,
  MemberListQuery,
  MemberParams,
  MemberUpdate,
  memberShape,
  membershipKey,
  toMember,
} from './members-schema.ts'

// Who a project is shared with. Who may see or change that is the policy's answer for subject
// ProjectMember (owners and admins manage, members see each other, anyone may leave); the
// routes only keep the invariants no rule can state.

const conflict = { 409: ProblemSchema }

const members: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('', {
    schema: {
      tags: ['members'],
      operationId: 'listProjectMembers',
      summary: 'Who the project is shared with',
      params: IdParams,
      querystring: MemberListQuery,
      response: { 200: page(Member), ...protectedErrors },
    },
    handler: async (request) => {
      // An unreadable project answers 404 like a missing one, whoever its members are.
      await request.authz.findOne('Project', request.params.id)
      return request.authz.list('ProjectMember', request.query, {
        filters: [{ projectId: request.params.id }],
        shape: memberShape,
        toItem: toMember,
      })
    },
  })

  fastify.post('', {
    schema: {
      tags: ['members'],
      operationId: 'addProjectMember',
      summary: 'Share the project with a user',
      description:
        'An unknown username is a 400 naming `username`; a user who is already a member, or the owner, is a 409. Who may share is the policy’s answer.',
      params: IdParams,
      body: MemberCreate,
      response: { 201: Member, ...protectedErrors, ...conflict },
    },
    handler: async (request, reply) => {
      const project = await request.authz.findOne('Project', request.params.id)
      // Resolving the name typed in, not reading the account: the policy decides on the membership.
      const user = await findAccount(fastify.db, request.body.username)
      if (!user) {
        throw new HttpProblem(400, 'invalid-reference', 'username: no user with this username exists.', {
          errors: [{ field: 'username', in: 'body', message: 'no user with this username exists' }],
        })
      }
      const data = { projectId: project.id, userId: user.id, role: request.body.role }
      const row = await request.authz.create('ProjectMember', data, {
        shape: memberShape,
        before: async (tx) => {
          if (user.id === project.ownerId) throw new HttpProblem(409, 'owner-not-member', `${user.username} owns this project.`)
          const existing = await tx.projectMember.findUnique({ where: membershipKey({ id: project.id, userId: user.id }) })
          if (existing)
            throw new HttpProblem(409, 'already-member', `The project is already shared with ${user.username} (${existing.role}).`)
        },
      })
      return reply.code(201).send(toMember(row))
    },
  })

  fastify.get('/:userId', {
    schema: {
      tags: ['members'],
      operationId: 'getProjectMember',
      summary: 'One member of the project',
      params: MemberParams,
      response: { 200: Member, ...protectedErrors },
    },
    handler: async (request) => toMember(await request.authz.findOne('ProjectMember', membershipKey(request.params), 'read', memberShape)),
  })

  fastify.patch('/:userId', {
    schema: {
      tags: ['members'],
      operationId: 'updateProjectMember',
      summary: "Change a member's role",
      params: MemberParams,
      body: MemberUpdate,
      response: { 200: Member, ...protectedErrors },
    },
    handler: async (request) =>
      toMember(await request.authz.update('ProjectMember', membershipKey(request.params), request.body, { shape: memberShape })),
  })

  fastify.delete('/:userId', {
    schema: {
      tags: ['members'],
      operationId: 'removeProjectMember',
      summary: 'Stop sharing the project with a user, or leave it',
      params: MemberParams,
      response: { 204: NoContent, ...protectedErrors },
    },
    handler: async (request, reply) => {
      await request.authz.delete('ProjectMember', membershipKey(request.params))
      return reply.code(204).send(null)
    },
  })
}

export default members
