import SwaggerParser from '@apidevtools/swagger-parser'
import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import openapiTS, { astToString } from 'openapi-typescript'
import { execFile } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { projectRoot } from '../../src/db/migrations.ts'
import { startApp } from '../helpers/app.ts'
import { engines } from '../helpers/databases.ts'

// The API's contract as a client sees it: /docs/json is a valid OpenAPI document with named,
// example-bearing schemas and problem+json errors, and a client generated from it alone (typed
// by openapi-typescript, calling through openapi-fetch) type-checks and plays the tutorial.

/** A parsed JSON value: the document is read as the client reads it. */
type Json = ReturnType<typeof JSON.parse>
const METHODS = ['get', 'post', 'put', 'patch', 'delete']

function operations(doc: Json): { key: string; operation: Json }[] {
  return Object.entries<Json>(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ key: `${method} ${path}`, operation: item[method] })),
  )
}

/** A response with its `$ref` (to components.responses) followed. */
const resolved = (doc: Json, response: Json): Json =>
  typeof response.$ref === 'string' ? doc.components.responses[response.$ref.replace('#/components/responses/', '')] : response

/** Validates values against the document's component schemas (OpenAPI 3.0 is JSON Schema plus `nullable`). */
function componentValidator(doc: Json) {
  const ajv = new Ajv.default({ strict: false, allErrors: true })
  addFormats.default(ajv)
  ajv.addSchema({ components: doc.components }, 'openapi')
  return (name: string, value: unknown) => {
    const validate = ajv.getSchema(`openapi#/components/schemas/${name}`)
    if (!validate) throw new Error(`no component ${name}`)
    return validate(value) ? [] : (validate.errors ?? [])
  }
}

t.test('the OpenAPI document', async (t) => {
  const api = await startApp(t, 'pglite')
  const res = await api.request({ url: '/docs/json' })
  const doc: Json = res.json()

  t.test('is valid OpenAPI 3 (swagger-parser)', async (t) => {
    const valid = await SwaggerParser.validate(structuredClone(doc) as never)
    t.match(valid, { openapi: /^3\./ })
  })

  t.test('every operation has a unique camelCase operationId', async (t) => {
    const ids = operations(doc).map(({ key, operation }) => {
      t.match(operation.operationId, /^[a-z][A-Za-z0-9]*$/, key)
      return operation.operationId
    })
    t.equal(new Set(ids).size, ids.length, 'unique')
    t.ok(ids.length >= 30)
    t.match(ids, ['getHealth', 'getReadiness', 'listProblemTypes', 'getProblemType'])
    for (const id of ['listProjects', 'getProject', 'createTask', 'updateTask', 'activatePolicy', 'rollbackPolicy', 'explainDecision']) {
      t.ok(ids.includes(id), id)
    }
  })

  t.test('shared schemas are named components, referenced, with examples that validate', async (t) => {
    const schemas: Json = doc.components.schemas
    for (const name of ['Project', 'ProjectPage', 'ProjectCreate', 'Task', 'TaskPage', 'User', 'UserPage', 'Problem', 'Policy', 'Rule']) {
      t.ok(schemas[name], `component ${name}`)
    }
    const projects = doc.paths['/api/projects']
    t.same(projects.get.responses['200'].content['application/json'].schema, { $ref: '#/components/schemas/ProjectPage' })
    t.same(projects.post.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/ProjectCreate' })
    t.same(schemas.ProjectPage.properties.items.items, { $ref: '#/components/schemas/Project' })
    t.notMatch(JSON.stringify(doc), /"\$id"|def-\d|x-component/, 'no leftovers of the naming')
    t.ok(res.body.length < 64_000, `${res.body.length} bytes (with sharing and its reverse queries)`)

    const check = componentValidator(doc)
    const withExamples = Object.keys(schemas).filter((name) => schemas[name].example !== undefined)
    t.ok(withExamples.length >= 15, `${withExamples.length} schemas have examples`)
    for (const name of withExamples) t.same(check(name, schemas[name].example), [], `${name}'s example is valid`)
    t.notSame(check('ProjectCreate', { name: 'x', ownerId: 1 }), [], 'the validator can fail')
  })

  t.test('errors are application/problem+json with the Problem schema; any operation can answer one', async (t) => {
    for (const { key, operation } of operations(doc)) {
      t.ok(operation.responses.default, `${key} has a default (problem) response`)
      for (const [status, response] of Object.entries<Json>(operation.responses)) {
        const answer = resolved(doc, response)
        t.ok(answer.headers?.['x-request-id'], `${key} ${status} documents x-request-id`)
        if (status !== 'default' && Number(status) < 400) continue
        t.same(answer.content, { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }, `${key} ${status}`)
      }
    }
    t.match(doc.components.schemas.Problem.properties.type, { format: 'uri-reference' })
  })

  t.test('query parameters with defaults are optional, and still filled in', async (t) => {
    for (const { key, operation } of operations(doc)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === 'query' && parameter.schema.default !== undefined)
          t.equal(parameter.required, false, `${key} ${parameter.name}`)
      }
    }
    const limit = doc.paths['/api/tasks'].get.parameters.find((p: Json) => p.name === 'limit')
    t.match(limit, { required: false, schema: { default: 50, minimum: 1, maximum: 100 } })
    const member = await api.user()
    t.match((await api.request({ url: '/api/tasks', as: member })).json(), { limit: 50, offset: 0 })
    t.equal((await api.request({ url: '/api/tasks?limit=0', as: member })).statusCode, 400)
  })

  t.test('the problem types are documented', async (t) => {
    t.equal(doc.paths['/problems'].get.operationId, 'listProblemTypes')
    t.ok(doc.paths['/problems/{name}'].get.responses['200'].content['text/html'])
    t.same(doc.paths['/problems/{name}'].get.security, [], 'public')
  })
})

const exec = promisify(execFile)

/** What tsc printed when it failed (it reports on stdout). */
const compilerOutput = (error: unknown) =>
  typeof error === 'object' && error !== null && 'stdout' in error && typeof error.stdout === 'string' && error.stdout
    ? error.stdout
    : String(error)

/** The types generated from /docs/json next to the client program, type-checked with tsc. */
async function generateClient(t: Test, doc: Json): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-client-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  symlinkSync(join(projectRoot, 'node_modules'), join(dir, 'node_modules'))
  writeFileSync(join(dir, 'api.ts'), astToString(await openapiTS(doc as never)))
  copyFileSync(join(import.meta.dirname, 'client', 'tutorial.ts'), join(dir, 'tutorial.ts'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  const compilerOptions = {
    target: 'ES2023',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    allowImportingTsExtensions: true,
    noEmit: true,
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    types: ['node'],
  }
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['tutorial.ts'] }))
  return dir
}

t.test('a client generated from the document', async (t) => {
  const api = await startApp(t, 'pglite')
  const doc: Json = (await api.request({ url: '/docs/json' })).json()
  const dir = await generateClient(t, doc)
  const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc')

  t.test('type-checks (tsc, strict) against the generated types', async (t) => {
    const result = await exec(process.execPath, [tsc, '-p', dir]).then(
      () => '',
      (error: unknown) => compilerOutput(error),
    )
    t.equal(result, '', 'no type errors')
  })

  t.test('and fails to type-check a call the document does not allow', async (t) => {
    writeFileSync(
      join(dir, 'wrong.ts'),
      "import type { paths } from './api.ts'\nexport const id: paths['/api/projects/{id}']['get']['parameters']['path']['id'] = 'one'\n",
    )
    const failed = await exec(process.execPath, [
      tsc,
      '--noEmit',
      '--strict',
      '--module',
      'NodeNext',
      '--allowImportingTsExtensions',
      '--skipLibCheck',
      join(dir, 'wrong.ts'),
    ]).then(
      () => '',
      (error: unknown) => compilerOutput(error),
    )
    t.match(failed, /TS2322/, 'a string is not a path id')
  })

  for (const engine of engines) {
    t.test(`plays the tutorial against a live server (${engine})`, async (t) => {
      const live = engine === 'pglite' ? api : await startApp(t, engine)
      await live.app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = live.app.server.address() as AddressInfo
      const { tutorial }: Json = await import(join(dir, 'tutorial.ts'))
      const seen: Json = await tutorial(`http://127.0.0.1:${port}`, `${engine}${process.pid}`)
      const check = componentValidator(doc)
      const problem = (name: string, status: number, type: string): Json => {
        const answer: Json = seen[name]
        t.equal(answer.status, status, `${name}: ${JSON.stringify(answer.body)}`)
        t.match(answer.contentType, /^application\/problem\+json/, `${name} is problem+json`)
        t.same(check('Problem', answer.body), [], `${name} matches Problem`)
        t.equal(answer.body.type, type)
        t.equal(answer.body.requestId, answer.requestId, `${name} names its request id, as the header does`)
        return answer.body
      }

      t.same(
        seen.registered.map((r: Json) => r.status),
        [201, 201],
      )
      t.same(check('Project', seen.projectA), [])
      t.equal(seen.listA.status, 200)
      t.same(check('ProjectPage', seen.listA.body), [])
      t.match(seen.listA.body, { items: [{ id: seen.projectA.id, name: 'Project A' }], total: 1, limit: 50, offset: 0 }, 'A sees only A')
      t.match(seen.listA.requestId, /\S/, 'x-request-id on a success')
      problem('bobsProjectForA', 404, '/problems/not-found')
      t.match(problem('taskInB', 403, '/problems/forbidden'), { ruleId: null })
      t.match(problem('moved', 403, '/problems/forbidden'), { detail: /move/ })
      t.match(seen.tasksOfA.body, { items: [{ title: 'Mine', projectId: seen.projectA.id }], total: 1 }, 'the task stayed')
      t.match(problem('withOwner', 400, '/problems/validation-error'), { errors: [{ field: 'ownerId', in: 'body' }] })
    })
  }
})
