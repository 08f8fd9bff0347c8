import type { ProblemTypeSchema } from './schema.ts'

// The problem types as pages for people following a `type` link in a browser.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escape = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char)

/** Escaped text with its `code spans` as <code>. */
const prose = (text: string) => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>')

function document(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>\n<body>\n${body}\n</body></html>\n`
}

const statusLine = (problem: ProblemTypeSchema) => (problem.status === null ? 'any 4xx status' : `HTTP ${problem.status}`)

export function problemPage(problem: ProblemTypeSchema): string {
  return document(
    problem.title,
    `<h1>${escape(problem.title)}</h1>\n<p><code>${escape(problem.type)}</code>, ${statusLine(problem)}</p>\n<p>${prose(problem.explanation)}</p>\n<p><a href="./">All problem types</a></p>`,
  )
}

export function problemIndexPage(problems: ProblemTypeSchema[]): string {
  const items = problems.map(
    (problem) =>
      `<li><a href="${escape(problem.type)}">${escape(problem.title)}</a> (${statusLine(problem)}): ${prose(problem.explanation)}</li>`,
  )
  return document('Problem types', `<h1>Problem types</h1>\n<ul>\n${items.join('\n')}\n</ul>`)
}

/** Whether `accept` ranks text/html above application/json (a browser following the link); JSON otherwise. */
export function prefersHtml(accept: string | undefined): boolean {
  return quality(accept ?? '', 'text/html') > quality(accept ?? '', 'application/json')
}

/** The q-value the most specific matching media range gives `type` (RFC 9110 §12.5.1); -1 if none. */
function quality(accept: string, type: string): number {
  const wildcard = `${type.split('/')[0] ?? ''}/*`
  let best = { specificity: -1, q: -1 }
  for (const range of accept.split(',')) {
    const [media = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase())
    const specificity = media === type ? 2 : media === wildcard ? 1 : media === '*/*' ? 0 : -1
    if (specificity <= best.specificity) continue
    const q = Number(params.find((param) => param.startsWith('q='))?.slice(2) ?? 1)
    best = { specificity, q: Number.isFinite(q) ? q : 0 }
  }
  return best.q
}
