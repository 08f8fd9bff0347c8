import fc from 'fast-check'

// Requests generated from the API's own OpenAPI document: well-formed ones from each operation's
// schemas, and the same requests broken in the ways clients and attackers break them.

export interface JsonSchema {
  type?: string | string[]
  enum?: unknown[]
  const?: unknown
  pattern?: string
  format?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  items?: JsonSchema
  minItems?: number
  maxItems?: number
  properties?: Record<string, JsonSchema>
  required?: string[]
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
}

export interface Operation {
  method: string
  path: string
  parameters: Array<{ in: 'path' | 'query' | 'header'; name: string; schema: JsonSchema }>
  body?: JsonSchema
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Operation['parameters']
        requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
      }
    >
  >
}

export function operations(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      parameters: operation.parameters ?? [],
      body: operation.requestBody?.content?.['application/json']?.schema,
    })),
  )
}

/** Values `schema` accepts. `ids` are worth trying wherever an integer is (rows that exist). */
export function valid(schema: JsonSchema, ids: number[]): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (schema.enum) return fc.constantFrom(...schema.enum)
  const union = schema.anyOf ?? schema.oneOf
  if (union) return fc.oneof(...union.map((member) => valid(member, ids)))
  if (schema.allOf) return valid(Object.assign({}, ...schema.allOf) as JsonSchema, ids)
  const type = Array.isArray(schema.type) ? fc.constantFrom(...schema.type) : fc.constant(schema.type)
  return type.chain((kind) => validOfType(kind, schema, ids))
}

function validOfType(kind: string | undefined, schema: JsonSchema, ids: number[]): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'string':
      return text(schema)
    case 'integer': {
      const min = schema.minimum ?? -(2 ** 31)
      const max = schema.maximum ?? 2 ** 31 - 1
      const near = ids.filter((id) => id >= min && id <= max)
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max, ...near))
    }
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum, max: schema.maximum })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array':
      return fc.array(schema.items ? valid(schema.items, ids) : fc.jsonValue(), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      })
    case 'object': {
      const properties = schema.properties ?? {}
      if (!Object.keys(properties).length) return fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
      const record = Object.fromEntries(Object.entries(properties).map(([name, property]) => [name, valid(property, ids)]))
      return fc.record(record, { requiredKeys: schema.required ?? [] })
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

const NUL_FREE = '^[^\\u0000]*$'

function text(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0
  const maxLength = Math.min(schema.maxLength ?? 60, 60)
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString())
  }
  if (schema.pattern && schema.pattern !== NUL_FREE) {
    const pattern = new RegExp(schema.pattern, 'u')
    return fc.stringMatching(pattern, { size: 'small' }).filter((s) => s.length >= minLength && s.length <= (schema.maxLength ?? Infinity))
  }
  return fc.string({
    minLength,
    maxLength,
    unit: fc.oneof(fc.constantFrom('a', 'Z', '0', ' ', '%', '_'), fc.constantFrom('é', '日', '🙂', 'ﬁ', '\u202e')),
  })
}

/** Values no schema should accept, or that stress what accepts them. */
export const HOSTILE_VALUES: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  0.5,
  2 ** 31,
  -(2 ** 31) - 1,
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  '',
  '1',
  'x'.repeat(20_000),
  'nul\u0000inside',
  '\u0000',
  '\ud800',
  '🙂'.repeat(200),
  'Ａｄｍｉｎ',
  "' OR 1=1 --",
  '%00',
  [],
  [1, 'two'],
  {},
  { nested: { deeper: [null] } },
  { __proto__: { admin: true } },
  '0000-01-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '275760-09-13T00:00:00Z',
  '1969-12-31T23:59:60Z',
]
export const hostileValue = fc.constantFrom(...HOSTILE_VALUES)

/** Raw text for a path or query parameter, however it was meant. */
export const hostileParam = fc.constantFrom(
  '0',
  '-1',
  '1.5',
  '1e3',
  '0x10',
  'abc',
  '2147483648',
  '99999999999999999999',
  '%00',
  '%zz',
  '%E0%A4%A',
  '%F0%9F%99%82',
  '%D9%A1',
  'null',
  'true',
  '[]',
  '..%2F..%2Fetc',
  encodeURIComponent('x'.repeat(3000)),
  encodeURIComponent('0000-01-01T00:00:00Z'),
  encodeURIComponent('2026-13-45T99:99:99Z'),
  encodeURIComponent('+275760-09-13T00:00:00.001Z'),
  encodeURIComponent('1969-12-31T23:59:60Z'),
)

/** A whole body as bytes with its content type, for the parser rather than the validator. */
export const HOSTILE_RAW_BODIES: ReadonlyArray<{ type: string; body: string | Buffer }> = [
  { type: 'application/json', body: '' },
  { type: 'application/json', body: '{"a":' },
  { type: 'application/json', body: 'null' },
  { type: 'application/json', body: '[]' },
  { type: 'application/json', body: '"string"' },
  { type: 'application/json', body: '\ufeff{}' },
  { type: 'application/json', body: '{"__proto__":{"admin":true}}' },
  { type: 'application/json', body: '{"constructor":{"prototype":{"admin":true}}}' },
  { type: 'application/json', body: '['.repeat(5000) + ']'.repeat(5000) },
  { type: 'application/json', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
  { type: 'application/json; charset=utf-16le', body: Buffer.from('{}', 'utf16le') },
  { type: 'application/json', body: JSON.stringify({ a: 'x'.repeat(70_000) }) },
  { type: 'text/plain', body: 'hello' },
  { type: 'application/x-www-form-urlencoded', body: 'a=1&b=2' },
  { type: 'multipart/form-data; boundary=x', body: '--x\r\n\r\n--x--' },
  { type: 'application/xml', body: '<a/>' },
]
export const hostileRawBody = fc.constantFrom(...HOSTILE_RAW_BODIES)

export type Mutation =
  | { kind: 'none' }
  | { kind: 'drop'; pick: number }
  | { kind: 'extra'; name: string; value: unknown }
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'raw'; raw: { type: string; body: string | Buffer } }
  | { kind: 'param'; pick: number; raw: string }
  | { kind: 'repeat'; pick: number }
  | { kind: 'unknownQuery'; name: string; raw: string }

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('extra' as const),
    name: fc.constantFrom('id', 'ownerId', 'role', 'passwordHash', 'x', '__proto__', ''),
    value: hostileValue,
  }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: hostileValue }) },
  fc.record({ kind: fc.constant('raw' as const), raw: hostileRawBody }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('param' as const), pick: fc.nat(), raw: hostileParam }) },
  fc.record({ kind: fc.constant('repeat' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('unknownQuery' as const), name: fc.constantFrom('x', 'where', 'include', '__proto__'), raw: hostileParam }),
)
