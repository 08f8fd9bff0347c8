import { STATUS_CODES } from 'node:http'
import { PROBLEM_SLUGS, PROBLEM_TYPES } from '../http/problem.ts'

// What the OpenAPI document says beyond the route schemas themselves, applied to copies (the
// route schemas Fastify validates with are never touched):
// - a schema with an `$id` is one named component, referenced wherever it is used;
// - error answers are application/problem+json, and any operation can answer a problem (default);
// - a query parameter with a default is optional for the client (Ajv fills it in);
// - every operation has an operationId, and every answer an x-request-id header.

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Marks a schema for hoisting; it survives @fastify/swagger's conversion, `$id` does not. */
const COMPONENT = 'x-component'
/** The response description @fastify/swagger reads from a response schema. */
const RESPONSE_DESCRIPTION = 'x-response-description'
const SCHEMAS = '#/components/schemas/'
const PROBLEM_MEDIA_TYPE = 'application/problem+json'

/** Turns each `$id` into a component mark; OpenAPI 3.0 schemas take one `example`, not `examples`. */
function markComponents(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) markComponents(item)
    return
  }
  if (!isObject(node)) return
  if (typeof node.$id === 'string') {
    node[COMPONENT] = node.$id
    delete node.$id
    if (Array.isArray(node.examples) && node.examples.length > 0) {
      node.example = node.examples[0]
      delete node.examples
    }
  }
  for (const value of Object.values(node)) markComponents(value)
}

/** Ajv fills in defaults, so the client need not send those parameters. */
function defaultsOptional(query: unknown): void {
  if (!isObject(query) || !isObject(query.properties) || !Array.isArray(query.required)) return
  const properties = query.properties
  query.required = query.required.filter(
    (name) => typeof name !== 'string' || !isObject(properties[name]) || !('default' in properties[name]),
  )
}

/** The status and the problem types that can come with it. */
function problemDescription(status: string): string {
  const slugs = PROBLEM_SLUGS.filter((slug) => String(PROBLEM_TYPES[slug].status) === status)
  if (status === 'default') return 'Any other problem, such as `internal-error` (500) or `database-unavailable` (503)'
  return `${STATUS_CODES[status] ?? 'Error'}: ${slugs.length ? slugs.map((slug) => `\`${slug}\``).join(', ') : '`client-error`'} (see /problems)`
}

function describeResponses(response: Json, problem: unknown): void {
  for (const [status, schema] of Object.entries(response)) {
    if (!isObject(schema)) continue
    if (schema[COMPONENT] === 'Problem') {
      response[status] = { description: problemDescription(status), content: { [PROBLEM_MEDIA_TYPE]: { schema } } }
    } else if (!schema.description && !schema.content) {
      schema[RESPONSE_DESCRIPTION] = STATUS_CODES[status] ?? 'Response'
    }
  }
  // Any operation can fail unexpectedly (500) or find the database gone (503).
  response.default ??= {
    description: problemDescription('default'),
    content: { [PROBLEM_MEDIA_TYPE]: { schema: structuredClone(problem) } },
  }
}

/** The route schema as the document shows it. */
export function documentedSchema(schema: unknown, route: { method: string | string[]; url: string }, problem: object): Json {
  if (!isObject(schema) || schema.hide === true) return isObject(schema) ? schema : {}
  if (typeof schema.operationId !== 'string') throw new Error(`${String(route.method)} ${route.url} has no operationId`)
  const documented = structuredClone(schema)
  const marked: unknown = structuredClone(problem)
  markComponents(documented)
  markComponents(marked)
  defaultsOptional(documented.querystring)
  documented.response ??= {}
  if (isObject(documented.response)) describeResponses(documented.response, marked)
  return documented
}

/** Moves every marked schema into components.schemas and references it from where it was. */
function hoist(node: unknown, schemas: Json): void {
  if (Array.isArray(node)) {
    node.forEach((item: unknown, index) => {
      if (isObject(item) && typeof item[COMPONENT] === 'string') node[index] = reference(item, schemas)
      else hoist(item, schemas)
    })
    return
  }
  if (!isObject(node)) return
  for (const [key, value] of Object.entries(node)) {
    if (isObject(value) && typeof value[COMPONENT] === 'string') node[key] = reference(value, schemas)
    else hoist(value, schemas)
  }
}

function reference(marked: Json, schemas: Json): Json {
  const { [COMPONENT]: name, ...schema } = marked
  const ref = { $ref: SCHEMAS + String(name) }
  hoist(schema, schemas)
  const known = schemas[String(name)]
  if (known === undefined) schemas[String(name)] = schema
  else if (JSON.stringify(known) !== JSON.stringify(schema)) throw new Error(`Two different schemas are named ${String(name)}`)
  return ref
}

const REQUEST_ID_HEADER = {
  description: 'The request id: the incoming x-request-id when it is acceptable, else one the server made. In every log line.',
  schema: { type: 'string' },
}

const REQUEST_ID = { 'x-request-id': { $ref: '#/components/headers/RequestId' } }

/** Problem answers are alike across operations: one response component per status. */
function problemResponseName(status: string, response: Json): string | undefined {
  const content = isObject(response.content) ? response.content : {}
  const media = content[PROBLEM_MEDIA_TYPE]
  if (Object.keys(content).length !== 1 || !isObject(media) || !isObject(media.schema) || media.schema.$ref !== `${SCHEMAS}Problem`) return
  return status === 'default' ? 'Problem' : (STATUS_CODES[status] ?? status).replace(/[^A-Za-z0-9]/g, '')
}

/** Components for the marked schemas and the problem answers; the request id header on every answer. */
export function finishDocument(document: Json): Json {
  const components = isObject(document.components) ? document.components : {}
  const schemas = isObject(components.schemas) ? components.schemas : {}
  const responses = isObject(components.responses) ? components.responses : {}
  hoist(document.paths, schemas)
  for (const operation of operations(document)) {
    if (!isObject(operation.responses)) continue
    for (const [status, response] of Object.entries(operation.responses)) {
      if (!isObject(response)) continue
      response.headers = { ...(isObject(response.headers) ? response.headers : {}), ...REQUEST_ID }
      const name = problemResponseName(status, response)
      if (name === undefined) continue
      responses[name] = response
      operation.responses[status] = { $ref: `#/components/responses/${name}` }
    }
  }
  return {
    ...document,
    components: {
      ...components,
      schemas: sorted(schemas),
      responses: sorted(responses),
      headers: { ...(isObject(components.headers) ? components.headers : {}), RequestId: REQUEST_ID_HEADER },
    },
  }
}

const sorted = (map: Json): Json => Object.fromEntries(Object.entries(map).sort(([a], [b]) => a.localeCompare(b)))

function operations(document: Json): Json[] {
  if (!isObject(document.paths)) return []
  return Object.values(document.paths).flatMap((item) => (isObject(item) ? Object.values(item).filter(isObject) : []))
}
