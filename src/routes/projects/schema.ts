import { Type, type Static } from 'typebox'
import { AccessFilter, listQuery, Text } from '../schemas.ts'

export const Project = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    description: Type.String(),
    ownerId: Type.Integer(),
    owner: Type.String({ description: 'Username of the owner' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'Project',
    examples: [{ id: 1, name: 'Project A', description: '', ownerId: 1, owner: 'alice', createdAt: '2026-11-25T10:00:00.000Z' }],
  },
)
export type Project = Static<typeof Project>

const name = Text({ minLength: 1, maxLength: 100 })
const description = Text({ maxLength: 10_000 })

// The owner is never part of a body: it is the caller (mass assignment is a 400).
export const ProjectCreate = Type.Object(
  { name, description: Type.Optional(description) },
  { $id: 'ProjectCreate', additionalProperties: false, examples: [{ name: 'Project A', description: 'The tutorial, done properly' }] },
)
export type ProjectCreate = Static<typeof ProjectCreate>

export const ProjectUpdate = Type.Object(
  { name: Type.Optional(name), description: Type.Optional(description) },
  { $id: 'ProjectUpdate', additionalProperties: false, minProperties: 1, examples: [{ name: 'Project A, renamed' }] },
)
export type ProjectUpdate = Static<typeof ProjectUpdate>

const PROJECT_ORDERING = ['id', 'name', 'createdAt'] as const
export const ProjectListQuery = listQuery(PROJECT_ORDERING, { access: Type.Optional(AccessFilter) })

/**
 * `?access=owned|shared`: the caller's own projects, or those of others they may read. A filter
 * on the data, combined with the policy's, never a grant: what is shown is still only what the
 * policy lets the caller read.
 */
export function ownership(access: Static<typeof AccessFilter> | undefined, callerId: number) {
  return access === undefined ? {} : { ownerId: access === 'owned' ? callerId : { not: callerId } }
}

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
