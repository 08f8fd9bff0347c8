// RFC 9457 problem details: every error the API answers has this shape, and every `type` it
// names is in PROBLEM_TYPES and served at that address (GET /problems/<slug>).

/**
 * Problem types are relative references (`/problems/forbidden`), resolved against the request's
 * URL as RFC 9457 §3.1.1 prescribes: they point at this server under whatever name the client
 * reached it, and a Host header can never put a foreign address into an answer.
 */
export const PROBLEM_PATH = '/problems/'

export interface ProblemType {
  title: string
  /** The status it is answered with; null where it carries the status of the error it stands for. */
  status: number | null
  /** What happened and what the client can do about it, for people. */
  explanation: string
}

export const PROBLEM_TYPES = {
  'validation-error': {
    title: 'Invalid request',
    status: 400,
    explanation:
      'A path parameter, query parameter or body field does not match the schema of the operation. `errors[]` names each one (`field`, `in`, `message`). Bodies are validated strictly: unknown and read-only fields (`id`, `ownerId`, `owner`, `createdAt`, `role`) are refused, never ignored, and nothing is written.',
  },
  'invalid-json': {
    title: 'Invalid JSON',
    status: 400,
    explanation: 'The request body is empty or is not valid JSON. Send a JSON object with `content-type: application/json`.',
  },
  'invalid-reference': {
    title: 'Invalid reference',
    status: 400,
    explanation:
      'The body refers to an object that does not exist or that you cannot see (for example a `projectId`); `errors[]` names the field.',
  },
  'invalid-if-match': {
    title: 'Invalid If-Match',
    status: 400,
    explanation: 'If-Match must be the ETag of a policy version, such as `"7"`, as answered by `GET /api/admin/policies`.',
  },
  'policy-invalid': {
    title: 'Invalid policy',
    status: 400,
    explanation:
      'The proposed rules do not validate against the data model: `errors[]` names the role, the rule id and the place in the rule (unknown role, action, subject, field, operator or placeholder, a value of the wrong type, a condition that cannot be translated to SQL).',
  },
  'invalid-current-password': {
    title: 'Wrong current password',
    status: 400,
    explanation: 'Changing a password needs the current one; the one sent is wrong. Nothing was changed.',
  },
  'invalid-url': {
    title: 'Invalid URL',
    status: 400,
    explanation: 'The URL cannot be read (for example a broken percent-encoding). Nothing was changed.',
  },
  'value-out-of-range': {
    title: 'Value out of range',
    status: 400,
    explanation:
      'A value passed validation but the database cannot store or compare it (for example a date in year 0). Nothing was changed.',
  },
  'bad-request': {
    title: 'Bad request',
    status: 400,
    explanation: 'The request is malformed; `detail` says how.',
  },
  unauthorized: {
    title: 'Authentication required',
    status: 401,
    explanation:
      'The route needs `Authorization: Bearer <token>` with a valid, unexpired token from `POST /api/auth/login`, of a user that still exists. Log in again.',
  },
  'invalid-credentials': {
    title: 'Invalid credentials',
    status: 401,
    explanation: 'The username or the password is wrong. Which of the two is not said, so that usernames cannot be guessed.',
  },
  forbidden: {
    title: 'Forbidden by the policy',
    status: 403,
    explanation:
      'You can see this object but the policy does not allow this action on it (or, on a create or a move, on its target). `ruleId` names the deciding rule, `null` when no rule allows it (default deny).',
  },
  'not-found': {
    title: 'Not found',
    status: 404,
    explanation:
      'The route or the object does not exist, or the policy does not let you read it: an object you cannot read is answered exactly like a missing one.',
  },
  'method-not-allowed': {
    title: 'Method not allowed',
    status: 405,
    explanation: 'The route exists but not with this method; the OpenAPI document at `/docs/json` lists the operations.',
  },
  'not-acceptable': {
    title: 'Not acceptable',
    status: 406,
    explanation: 'None of the media types in `Accept` can be produced; the API answers `application/json` and `application/problem+json`.',
  },
  conflict: {
    title: 'Conflict',
    status: 409,
    explanation:
      'The data changed while the request ran (a concurrent request deleted or changed a row it depends on), or a unique value is taken. Reload and try again.',
  },
  'username-taken': {
    title: 'Username taken',
    status: 409,
    explanation: 'Another account has this username; choose another one.',
  },
  'already-member': {
    title: 'Already a member',
    status: 409,
    explanation: 'The project is already shared with this user. To change what they may do, `PATCH` their membership instead.',
  },
  'owner-not-member': {
    title: 'The owner cannot be a member',
    status: 409,
    explanation: 'The owner of a project already has every right on it; a project is shared with other users only.',
  },
  'policy-version-conflict': {
    title: 'Policy version conflict',
    status: 409,
    explanation:
      'Somebody activated another policy version after the one named in `If-Match`. `currentVersion` (and the ETag header) is the active one: reload it, apply your change again, and send it with the new ETag.',
  },
  'body-too-large': {
    title: 'Body too large',
    status: 413,
    explanation: 'The request body is larger than the API accepts (64 KiB).',
  },
  'unsupported-media-type': {
    title: 'Unsupported media type',
    status: 415,
    explanation: 'Request bodies must be `application/json`.',
  },
  'decision-table-failed': {
    title: 'Decision table failed',
    status: 422,
    explanation:
      'The proposed rules fail rows of the decision table; `failures[]` lists them with the outcome the rules give. If the change is intended, send an updated `table` whose rows the new rules pass.',
  },
  'policy-lockout': {
    title: 'Policy lockout',
    status: 422,
    explanation:
      'With the proposed rules no role, or no existing user, could manage policies or users any more; `detail` says which. Keep at least one administrator able to.',
  },
  'precondition-required': {
    title: 'Precondition required',
    status: 428,
    explanation: 'Changing the policy needs `If-Match: "<version>"` with the ETag of the version the change is based on.',
  },
  'uri-too-long': {
    title: 'URI too long',
    status: 414,
    explanation: 'A part of the URL path is longer than this server accepts.',
  },
  'too-many-login-failures': {
    title: 'Too many login failures',
    status: 429,
    explanation:
      'Too many failed logins for this username from your address, or for any usernames from your address. `Retry-After` says how many seconds to wait; other addresses are not affected. The counters are shared by every instance.',
  },
  'too-many-registrations': {
    title: 'Too many registrations',
    status: 429,
    explanation: 'Too many accounts were registered from your address in the current window. `Retry-After` says how many seconds to wait.',
  },
  'too-many-requests': {
    title: 'Too many requests',
    status: 429,
    explanation: 'Slow down: `Retry-After` says how many seconds to wait.',
  },
  'client-error': {
    title: 'Client error',
    status: null,
    explanation: 'The request cannot be answered as it is; `status` and `detail` say why.',
  },
  'internal-error': {
    title: 'Internal error',
    status: 500,
    explanation:
      'Something failed on the server. It has been logged with the request id (`requestId`, `x-request-id`): quote it when reporting.',
  },
  'database-unavailable': {
    title: 'Database unavailable',
    status: 503,
    explanation: 'The database cannot be reached right now. The request changed nothing; retry after the seconds in `Retry-After`.',
  },
  'console-not-built': {
    title: 'Admin console not built',
    status: 503,
    explanation: 'The admin console is served from its build: run `npm run build:console` (npm start does it) and restart the server.',
  },
} as const satisfies Record<string, ProblemType>

export type ProblemSlug = keyof typeof PROBLEM_TYPES

export const PROBLEM_SLUGS = Object.keys(PROBLEM_TYPES) as ProblemSlug[]

export function isProblemSlug(name: string): name is ProblemSlug {
  return Object.hasOwn(PROBLEM_TYPES, name)
}

export const problemType = (slug: ProblemSlug): string => PROBLEM_PATH + slug

// Types that say no more than their status.
const GENERIC = new Set<ProblemSlug>([
  'bad-request',
  'unauthorized',
  'forbidden',
  'not-found',
  'method-not-allowed',
  'not-acceptable',
  'conflict',
  'body-too-large',
  'unsupported-media-type',
  'too-many-requests',
])

/** The type of an error known only by its status (Fastify's own errors). */
export function slugForStatus(status: number): ProblemSlug {
  return PROBLEM_SLUGS.find((slug) => PROBLEM_TYPES[slug].status === status && GENERIC.has(slug)) ?? 'client-error'
}

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  requestId?: string
  errors?: { field?: string; message: string; [key: string]: unknown }[]
  [extension: string]: unknown
}

/** An error that is answered as it is: status, a registered problem type and a detail for people. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: ProblemSlug,
    readonly detail: string,
    readonly extensions: Omit<Partial<ProblemBody>, 'type' | 'title' | 'status' | 'detail'> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail)
  }

  toBody(instance?: string, requestId?: string): ProblemBody {
    return {
      type: problemType(this.slug),
      title: PROBLEM_TYPES[this.slug].title,
      status: this.status,
      detail: this.detail,
      ...(instance ? { instance } : {}),
      ...(requestId ? { requestId } : {}),
      ...this.extensions,
    }
  }
}
