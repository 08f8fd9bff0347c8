import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient } from '../generated/prisma/client.ts'

// What policies may talk about: the models of prisma/schema.prisma, their fields and relations.
// Read from the generated client, so the schema stays the one definition of the data.

export type ScalarType = 'Int' | 'String' | 'Boolean' | 'DateTime' | 'Float' | 'BigInt' | 'Decimal' | 'Json' | 'Bytes'

export interface ScalarField {
  kind: 'scalar'
  name: string
  type: ScalarType
  /** Rules may never read it: not in conditions, not in field rules, never loaded for a decision. */
  secret: boolean
}

export interface RelationField {
  kind: 'relation'
  name: string
  /** The related model. */
  target: string
  /** `true` for a list (one-to-many), `false` for a single related row. */
  many: boolean
  /** The scalar on this model that holds the related row's id (single relations only), e.g. `projectId`. */
  foreignKey?: string
}

export type ModelField = ScalarField | RelationField

export interface ModelInfo {
  name: string
  /** The primary key field (`id`, or the model's first field). */
  primaryKey: string
  fields: Map<string, ModelField>
}

export type DataModel = Map<string, ModelInfo>

interface RuntimeField {
  name: string
  kind: 'scalar' | 'object' | 'enum'
  type: string
  isList?: boolean
  relationName?: string
}

/**
 * Fields no rule may read. A condition on a secret is an oracle: validation and impact answer
 * whether it matches, so `startsWith` extracts it a character at a time. Listed by name, and by
 * convention too: any field whose name contains password, secret, token, hash or salt is secret,
 * so a new credential column is covered before anyone remembers this list.
 */
export const SECRET_FIELDS: Readonly<Record<string, readonly string[]>> = { User: ['passwordHash'] }
const SECRET_NAME = /password|secret|token|hash|salt/i

export function isSecret(model: string, field: string): boolean {
  return SECRET_NAME.test(field) || (SECRET_FIELDS[model]?.includes(field) ?? false)
}

let cached: DataModel | undefined

export function dataModel(): DataModel {
  if (cached) return cached
  // The generated client carries the schema as a runtime data model. The adapter is never
  // connected; it only lets the client be constructed.
  const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgresql://localhost/unused' }) })
  const runtime = (client as unknown as { _runtimeDataModel: { models: Record<string, { fields: RuntimeField[] }> } })._runtimeDataModel
  const model: DataModel = new Map()
  for (const [name, { fields }] of Object.entries(runtime.models)) {
    const byName = new Map<string, ModelField>()
    const scalarNames = new Set(fields.filter((f) => f.kind !== 'object').map((f) => f.name))
    for (const field of fields) {
      if (field.kind === 'object') {
        const many = isToMany(name, field, runtime.models)
        const foreignKey = !many && scalarNames.has(`${field.name}Id`) ? `${field.name}Id` : undefined
        byName.set(field.name, { kind: 'relation', name: field.name, target: field.type, many, foreignKey })
      } else {
        byName.set(field.name, { kind: 'scalar', name: field.name, type: field.type as ScalarType, secret: isSecret(name, field.name) })
      }
    }
    model.set(name, { name, primaryKey: byName.has('id') ? 'id' : fields[0]!.name, fields: byName })
  }
  cached = model
  return model
}

// The runtime model omits list markers; a relation is to-many when this side has no foreign key
// and the other side of the same relation does.
function isToMany(model: string, field: RuntimeField, models: Record<string, { fields: RuntimeField[] }>): boolean {
  if (field.isList !== undefined) return field.isList
  const own = models[model]!.fields
  if (own.some((f) => f.name === `${field.name}Id`)) return false
  const back = models[field.type]?.fields.find((f) => f.kind === 'object' && f.relationName === field.relationName && f.type === model)
  return Boolean(back && models[field.type]!.fields.some((f) => f.name === `${back.name}Id`))
}

/** The scalars of a model that rules may read (every one but the secrets). */
export function readableScalars(info: ModelInfo): ScalarField[] {
  return [...info.fields.values()].filter((field): field is ScalarField => field.kind === 'scalar' && !field.secret)
}

/** The to-one relation of `subject` to `target` that a foreign key holds, e.g. Task → Project: `project` by `projectId`. */
export function foreignKeyTo(subject: string, target: string): RelationField & { foreignKey: string } {
  for (const field of dataModel().get(subject)?.fields.values() ?? []) {
    if (field.kind === 'relation' && field.target === target && field.foreignKey) return { ...field, foreignKey: field.foreignKey }
  }
  throw new Error(`${subject} has no foreign key to ${target}`)
}
