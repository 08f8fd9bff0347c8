import type { Static } from 'typebox'
import type { Authorizer } from '../../authz/authorizer.ts'
import { ownership } from '../projects/schema.ts'
import { searchAny } from '../schemas.ts'
import { toTask, type TaskListQuery } from './schema.ts'

/** A page of the tasks the caller may read, shared by /tasks and /projects/:id/tasks. */
export function listTasks(authz: Authorizer, query: Static<typeof TaskListQuery>) {
  return authz.list('Task', query, {
    filters: [
      searchAny(['title', 'description'], query.search),
      query.completed === undefined ? {} : { completed: query.completed },
      query.projectId === undefined ? {} : { projectId: query.projectId },
      query.access === undefined ? {} : { project: { is: ownership(query.access, authz.user.id) } },
    ],
    toItem: toTask,
  })
}
