import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HttpProblem } from '../../http/problem.ts'
import { IdParams, PageQuery, protectedErrors } from '../schemas.ts'
import { ProjectAccess } from './access-schema.ts'

// Who may reach a project. Asking is for whoever may share it: the policy's answer to "may the
// caller create a membership of this project" (owners and admins in policies/), after the
// project itself must be readable (404 otherwise, as for a missing one).
const access: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('', {
    schema: {
      tags: ['projects', 'members'],
      operationId: 'getProjectAccess',
      summary: 'Who may read, change or delete the project, or create tasks in it',
      description: 'Per role, and users who differ from their role. For those who may share the project.',
      params: IdParams,
      querystring: PageQuery,
      response: { 200: ProjectAccess, ...protectedErrors },
    },
    handler: async (request) => {
      const { id } = request.params
      await request.authz.findOne('Project', id)
      await request.authz.assertCanCreate('ProjectMember', { projectId: id })
      const answer = await request.authz.whoCanAccess(id, request.query)
      // Deleted since it was read.
      if (!answer) throw new HttpProblem(404, 'not-found', 'Project not found.')
      return answer
    },
  })
}

export default access
