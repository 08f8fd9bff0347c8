// RFC 9457 problem details: every error the API answers has this shape.

export const PROBLEM_BASE = 'https://projects-tasks.dev/problems/'

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail?: string
  instance?: string
  errors?: Array<{ field?: string; message: string; [key: string]: unknown }>
  [extension: string]: unknown
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

export function statusTitle(status: number): string {
  return TITLES[status] ?? 'Error'
}

/** An error that is answered as it is: status, a problem `type` slug and a detail for people. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly detail: string,
    readonly extensions: Omit<Partial<ProblemBody>, 'type' | 'title' | 'status' | 'detail'> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail)
  }

  toBody(instance?: string): ProblemBody {
    return {
      type: PROBLEM_BASE + this.slug,
      title: statusTitle(this.status),
      status: this.status,
      detail: this.detail,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    }
  }
}
