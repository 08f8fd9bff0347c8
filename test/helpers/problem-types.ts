import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

// Every problem `type` a test answer carries must be served by the API: recorded per test file
// and dereferenced (resolved against the request URL, as RFC 9457 says) before the app closes.

export function recordProblemType(res: LightMyRequestResponse, into: Set<string>): void {
  if (!/^application\/problem\+json/.test(String(res.headers['content-type']))) return
  const body: unknown = res.json()
  if (typeof body !== 'object' || body === null || !('type' in body) || typeof body.type !== 'string') {
    throw new Error(`A problem answer without a type: ${res.body.slice(0, 200)}`)
  }
  into.add(body.type)
}

export async function assertProblemTypesServed(app: FastifyInstance, types: Set<string>): Promise<void> {
  for (const type of types) {
    const url = new URL(type, 'http://api.test/api/any/request')
    if (url.origin !== 'http://api.test') throw new Error(`Problem type ${type} is not on this server`)
    const res = await app.inject({ url: url.pathname, headers: { accept: 'application/json' } })
    const served: unknown = res.statusCode === 200 ? res.json() : undefined
    if (typeof served !== 'object' || served === null || !('type' in served) || served.type !== type) {
      throw new Error(`Problem type ${type} is not served: GET ${url.pathname} answered ${res.statusCode}`)
    }
  }
}
