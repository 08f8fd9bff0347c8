import type { Authorizer } from '../../authz/authorizer.ts'
import type { PrismaClient } from '../../generated/prisma/client.ts'
import { listPage, orderBy } from '../schemas.ts'
import { taskListWhere, toTask, type TaskListFilters } from './schema.ts'

/** A page of the tasks the caller may read, shared by /tasks and /projects/:id/tasks. */
export function listTasks(db: PrismaClient, authz: Authorizer, query: TaskListFilters) {
  const where = taskListWhere(authz.where('read', 'Task'), query)
  return listPage(
    db.task.findMany({ where, orderBy: orderBy(query.ordering), skip: query.offset, take: query.limit }),
    db.task.count({ where }),
    query,
    toTask,
  )
}
