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
  /** Called when the API stops accepting the token (expired, user deleted or demoted). */
  onSignedOut(listener: (reason: string) => void) {
    signedOutListener = listener
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
    throw new ApiError({ type: 'about:blank', title: 'Network error', status: 0, detail: 'The server could not be reached. Check your connection and try again.' })
  }
  const text = await response.text()
  const data = text ? (JSON.parse(text) as unknown) : null
  if (!response.ok) {
    const problem = (data ?? { type: 'about:blank', title: response.statusText, status: response.status }) as Problem
    if (response.status === 401 && token && !path.startsWith('/api/auth/')) {
      session.end()
      signedOutListener(problem.detail ?? 'Your session has ended. Sign in again.')
    }
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
