import type { Problem } from './types.ts'

// Every call the console makes goes through here: the bearer token, JSON in and out, and
// problem+json answers turned into ApiError. The token lives in this tab's sessionStorage only
// (gone when the tab closes; never a cookie, so no other origin's request can carry it).

const TOKEN_KEY = 'policy-console.token'

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title)
  }
  get status() {
    return this.problem.status
  }
}

let signedOutListener: (reason: string) => void = () => {}
let forbiddenListener: () => void = () => {}

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY)
  },
  start(token: string) {
    sessionStorage.setItem(TOKEN_KEY, token)
  },
  end() {
    sessionStorage.removeItem(TOKEN_KEY)
  },
  /** Called when the API stops accepting the token (expired, user deleted). */
  onSignedOut(listener: (reason: string) => void) {
    signedOutListener = listener
  },
  /** Called on any 403: the account may have lost its access (demoted) and needs checking. */
  onForbidden(listener: () => void) {
    forbiddenListener = listener
  },
}

export interface Answer<T> {
  data: T
  etag: string | null
}

export async function request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const token = session.token
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers: {
        accept: 'application/json, application/problem+json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiError({
      type: 'about:blank',
      title: 'Network error',
      status: 0,
      detail: 'The server could not be reached. Check your connection and try again.',
    })
  }
  const text = await response.text()
  let data: unknown = null
  try {
    data = text ? JSON.parse(text) : null
  } catch {
    // Not JSON (a proxy's error page): described by the status alone.
  }
  if (!response.ok) {
    const body = data && typeof data === 'object' ? (data as Partial<Problem>) : {}
    const problem: Problem = {
      ...body,
      type: typeof body.type === 'string' ? body.type : 'about:blank',
      title: typeof body.title === 'string' ? body.title : response.statusText || 'Error',
      status: response.status,
      detail: typeof body.detail === 'string' ? body.detail : undefined,
      errors: Array.isArray(body.errors) ? body.errors : undefined,
      failures: Array.isArray(body.failures) ? body.failures : undefined,
    }
    if (response.status === 401 && token && !path.startsWith('/api/auth/')) {
      session.end()
      signedOutListener(problem.detail ?? 'Your session has ended. Sign in again.')
    }
    if (response.status === 403 && token) forbiddenListener()
    throw new ApiError(problem)
  }
  return { data: data as T, etag: response.headers.get('etag') }
}

export const api = {
  get: async <T>(path: string) => (await request<T>('GET', path)).data,
  post: async <T>(path: string, body: unknown) => (await request<T>('POST', path, body)).data,
  patch: async <T>(path: string, body: unknown) => (await request<T>('PATCH', path, body)).data,
  delete: async (path: string) => {
    await request<null>('DELETE', path)
  },
}

/** `?a=1&b=x` from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params).filter(([, value]) => value !== undefined && value !== '')
  return entries.length ? `?${new URLSearchParams(entries.map(([key, value]) => [key, String(value)])).toString()}` : ''
}
