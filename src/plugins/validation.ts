import fp from 'fastify-plugin'
import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import type { FastifyInstance } from 'fastify'

// Bodies are JSON and validated strictly: no type coercion, unknown fields refused (so `ownerId`,
// `role` or `id` in a body is a 400, never silently applied). Query strings and path params are
// text and coerced to the schema's types.

function makeAjv(coerce: boolean) {
  const ajv = new Ajv.default({
    coerceTypes: coerce,
    useDefaults: true,
    removeAdditional: false,
    allErrors: true,
    strict: false,
  })
  addFormats.default(ajv)
  return ajv
}

export default fp(
  async (fastify: FastifyInstance) => {
    const strict = makeAjv(false)
    const coercing = makeAjv(true)
    fastify.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict.compile(schema) : coercing.compile(schema)))
  },
  { name: 'validation' },
)
