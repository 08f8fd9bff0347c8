import { Type, type Static, type TSchema } from 'typebox'

// Schemas shared by several resources; each resource's own schemas live beside its routes.

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    ruleId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    errors: Type.Optional(
      Type.Array(
        Type.Object(
          { field: Type.Optional(Type.String()), in: Type.Optional(Type.String()), message: Type.String() },
          { additionalProperties: true },
        ),
      ),
    ),
  },
  // Problem types add their own members (failures, currentVersion, …).
  { description: 'RFC 9457 problem details', additionalProperties: true },
)

/** Text PostgreSQL can store: anything but the NUL character. */
export function Text(options: { minLength?: number; maxLength: number; description?: string }) {
  return Type.String({ ...options, pattern: '^[^\\u0000]*$' })
}

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) }, { additionalProperties: false })
export type IdParams = Static<typeof IdParams>

export const NoContent = Type.Null({ description: 'No content' })

export const MAX_LIMIT = 100

/** limit/offset/search/ordering, with `ordering` restricted to `fields` (and their `-` descending forms). */
export function listQuery<F extends string>(fields: readonly F[], extra: Record<string, TSchema> = {}, defaultOrdering = 'id') {
  const ordering = fields.flatMap((field) => [field, `-${field}`])
  return Type.Object(
    {
      limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 50 }),
      offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
      search: Type.Optional(Text({ minLength: 1, maxLength: 200 })),
      ordering: Type.String({ enum: ordering, default: defaultOrdering, description: `One of ${ordering.join(', ')}` }),
      ...extra,
    },
    { additionalProperties: false },
  )
}

export interface ListQuery {
  limit: number
  offset: number
  search?: string
  ordering: string
}

export function page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
  })
}

/** Prisma `orderBy` for an allow-listed `ordering` value; the key breaks ties so pages are stable. */
export function orderBy(ordering: string, key = 'id'): Array<Record<string, 'asc' | 'desc'>> {
  const descending = ordering.startsWith('-')
  const field = descending ? ordering.slice(1) : ordering
  const order = { [field]: descending ? 'desc' : 'asc' } as Record<string, 'asc' | 'desc'>
  return field === key ? [order] : [order, { [key]: 'asc' }]
}

/** Case-insensitive `contains` over several text fields; `%`, `_` and `\\` match themselves. */
export function searchAny(fields: string[], search: string | undefined) {
  if (!search) return {}
  // Prisma hands `contains` to LIKE unescaped, where % and _ would be wildcards.
  const literal = search.replace(/[\\%_]/g, (char) => `\\${char}`)
  return { OR: fields.map((field) => ({ [field]: { contains: literal, mode: 'insensitive' as const } })) }
}

/** Responses every protected route can give, for the OpenAPI document. */
export const protectedErrors = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
}

/**
 * One page of a list. Rows and total are two statements sent at once; a transaction would add
 * BEGIN/COMMIT without making them agree (each statement has its own snapshot at READ COMMITTED).
 */
export async function listPage<T, R>(rows: PromiseLike<T[]>, count: PromiseLike<number>, query: ListQuery, toItem: (row: T) => R) {
  const [found, total] = await Promise.all([rows, count])
  return { items: found.map(toItem), total, limit: query.limit, offset: query.offset }
}
