import { Type, type Static, type TProperties, type TSchema } from 'typebox'

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

const MAX_LIMIT = 100

/** limit/offset/search/ordering (restricted to `fields` and their `-` descending forms), plus `extra` filters. */
export function listQuery<E extends TProperties>(fields: readonly string[], extra: E, defaultOrdering = 'id') {
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

export function page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
  })
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
