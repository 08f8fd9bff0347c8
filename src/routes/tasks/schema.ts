import { Type, type Static } from 'typebox'
import { AccessFilter, listQuery, Text } from '../schemas.ts'

export const Task = Type.Object(
  {
    id: Type.Integer(),
    projectId: Type.Integer(),
    title: Type.String(),
    description: Type.String(),
    completed: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'Task',
    examples: [{ id: 1, projectId: 1, title: 'Write tests', description: '', completed: false, createdAt: '2026-11-25T10:05:00.000Z' }],
  },
)
export type Task = Static<typeof Task>

const projectId = Type.Integer({ minimum: 1, maximum: 2147483647 })
const title = Text({ minLength: 1, maxLength: 100 })
const description = Text({ maxLength: 10_000 })

export const TaskCreate = Type.Object(
  { projectId, title, description: Type.Optional(description), completed: Type.Optional(Type.Boolean()) },
  { $id: 'TaskCreate', additionalProperties: false, examples: [{ projectId: 1, title: 'Write tests', description: 'All of them' }] },
)
export type TaskCreate = Static<typeof TaskCreate>

/** `projectId` moves the task; the policy checks the task where it is and where it goes. */
export const TaskUpdate = Type.Object(
  {
    projectId: Type.Optional(projectId),
    title: Type.Optional(title),
    description: Type.Optional(description),
    completed: Type.Optional(Type.Boolean()),
  },
  { $id: 'TaskUpdate', additionalProperties: false, minProperties: 1, examples: [{ completed: true }, { projectId: 2 }] },
)
export type TaskUpdate = Static<typeof TaskUpdate>

const TASK_ORDERING = ['id', 'title', 'completed', 'createdAt'] as const
export const TaskListQuery = listQuery(TASK_ORDERING, {
  completed: Type.Optional(Type.Boolean()),
  projectId: Type.Optional(projectId),
  access: Type.Optional(AccessFilter),
})
export function toTask(row: {
  id: number
  projectId: number
  title: string
  description: string
  completed: boolean
  createdAt: Date
}): Task {
  return {
    id: row.id,
    projectId: row.projectId,
    title: row.title,
    description: row.description,
    completed: row.completed,
    createdAt: row.createdAt.toISOString(),
  }
}
