import { Type, type Static } from 'typebox'
import { listQuery, Text } from '../schemas.ts'

export const Project = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  ownerId: Type.Integer(),
  owner: Type.String({ description: 'Username of the owner' }),
  createdAt: Type.String({ format: 'date-time' }),
})
export type Project = Static<typeof Project>

const name = Text({ minLength: 1, maxLength: 100 })
const description = Text({ maxLength: 10_000 })

// The owner is never part of a body: it is the caller (mass assignment is a 400).
export const ProjectCreate = Type.Object({ name, description: Type.Optional(description) }, { additionalProperties: false })
export type ProjectCreate = Static<typeof ProjectCreate>

export const ProjectUpdate = Type.Object(
  { name: Type.Optional(name), description: Type.Optional(description) },
  { additionalProperties: false, minProperties: 1 },
)
export type ProjectUpdate = Static<typeof ProjectUpdate>

const PROJECT_ORDERING = ['id', 'name', 'createdAt'] as const
export const ProjectListQuery = listQuery(PROJECT_ORDERING, {})

/** What the response needs beyond the row itself. */
export const projectShape = { include: { owner: { select: { username: true } } } } as const

export function toProject(row: {
  id: number
  name: string
  description: string
  ownerId: number
  createdAt: Date
  owner: { username: string }
}): Project {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    ownerId: row.ownerId,
    owner: row.owner.username,
    createdAt: row.createdAt.toISOString(),
  }
}
