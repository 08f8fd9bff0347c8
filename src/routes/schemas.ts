import { Type, type Static, type TProperties, type TSchema } from 'typebox'

// Schemas shared by several resources; each resource's own schemas live beside its routes.

export const ProblemSchema = Type.Object(
  {
    type: Type.String({
      format: 'uri-reference',
      description: 'The problem type: a reference relative to the request URL (`/problems/<name>`) that answers what it means',
    }),
    title: Type.String({ description: 'The title of the problem type' }),
    status: Type.Integer(),
    detail: Type.Optional(Type.String({ description: 'What went wrong with this request' })),
    instance: Type.Optional(Type.String({ description: 'The path and query of the request' })),
    requestId: Type.Optional(Type.String({ description: 'The request id, also in the `x-request-id` header and the server logs' })),
    ruleId: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The deciding rule of a 403; null: no rule allows it' })),
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
  {
    $id: 'Problem',
    description: 'RFC 9457 problem details',
    additionalProperties: true,
    examples: [
      {
        type: '/problems/validation-error',
        title: 'Invalid request',
        status: 400,
        detail: 'Invalid body: ownerId is not a field this endpoint accepts (unknown or read-only).',
        instance: '/api/projects',
        requestId: '5b0b8f6e-3c1f-4c55-9a5e-0d6f1c2b7a10',
        errors: [{ field: 'ownerId', in: 'body', message: 'is not a field this endpoint accepts (unknown or read-only)' }],
      },
    ],
  },
)

/** Text PostgreSQL can store: anything but the NUL character. */
export function Text(options: { minLength?: number; maxLength: number; description?: string }) {
  return Type.String({ ...options, pattern: '^[^\\u0000]*$' })
}

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) }, { additionalProperties: false })
export type IdParams = Static<typeof IdParams>

export const NoContent = Type.Null({ description: 'No content' })

const MAX_LIMIT = 100
const limit = Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 50 })
const offset = Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 })

/** limit/offset alone, for answers paged in one fixed order. */
export const PageQuery = Type.Object({ limit, offset }, { additionalProperties: false })

/** limit/offset/search/ordering (restricted to `fields` and their `-` descending forms), plus `extra` filters. */
export function listQuery<E extends TProperties>(fields: readonly string[], extra: E, defaultOrdering = 'id') {
  const ordering = fields.flatMap((field) => [field, `-${field}`])
  return Type.Object(
    {
      limit,
      offset,
      search: Type.Optional(Text({ minLength: 1, maxLength: 200 })),
      ordering: Type.String({ enum: ordering, default: defaultOrdering, description: `One of ${ordering.join(', ')}` }),
      ...extra,
    },
    { additionalProperties: false },
  )
}

/** Lists of projects and tasks: the caller's own, or those shared with them (all when absent). */
export const AccessFilter = Type.Enum(['owned', 'shared'], {
  description: '`owned`: of projects the caller owns; `shared`: of projects owned by others that the caller may read',
})

/** A page of a list; named `<Item>Page` in the OpenAPI document when the item is named. */
export function page<T extends TSchema>(item: T) {
  const name = '$id' in item ? item.$id : undefined
  return Type.Object(
    {
      items: Type.Array(item),
      total: Type.Integer({ description: 'How many items match, on all pages' }),
      limit: Type.Integer(),
      offset: Type.Integer(),
    },
    typeof name === 'string' ? { $id: `${name}Page` } : {},
  )
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
