import { accessibleBy, createPrismaAbility } from '@casl/prisma/runtime'
import { CompiledRules } from '../authz/compiled-rules.ts'
import { dataModel, type DataModel, type ModelInfo, type ScalarType } from '../authz/data-model.ts'
import { interpolate, PLACEHOLDERS, placeholdersIn, placeholderType } from '../authz/placeholders.ts'
import type { RawRule, RuleDocument } from '../shared/rule-format.ts'
import { ROLES } from '../shared/roles.ts'
import { ACTIONS } from '../shared/vocabulary.ts'

// Meaning checks on a policy document, so a bad rule is refused when it is loaded or proposed,
// never widened or ignored at request time. Each error names the rule and the problem.

export interface PolicyError {
  role: string
  ruleId: string | null
  /** JSON-pointer-like location inside the rule, e.g. `conditions/project/is/ownerId`. */
  path: string
  message: string
}

const SCALAR_OPERATORS = new Set(['equals', 'not', 'in', 'notIn', 'lt', 'lte', 'gt', 'gte', 'contains', 'startsWith', 'endsWith', 'mode'])
const STRING_ONLY_OPERATORS = new Set(['contains', 'startsWith', 'endsWith', 'mode'])
const TEXT_MATCH_OPERATORS = new Set(['contains', 'startsWith', 'endsWith'])
const INT32 = 2 ** 31
const ORDERED_TYPES = new Set<ScalarType>(['Int', 'Float', 'BigInt', 'Decimal', 'DateTime'])
const TO_ONE_OPERATORS = new Set(['is', 'isNot'])
const TO_MANY_OPERATORS = new Set(['some', 'every', 'none'])
const LOGICAL = new Set(['AND', 'OR', 'NOT'])
/** Prisma reads OR only as a list; AND and NOT also as one object, which CASL reads the same way. */
const OBJECT_FORM_ALLOWED = new Set(['AND', 'NOT'])
/** Characters LIKE reads as wildcards or escapes while CASL's in-memory check reads them literally. */
const LIKE_SPECIAL = /[%_\\]/
/**
 * Bounds on one rule's conditions, checked before anything walks them recursively: Prisma
 * refuses deep queries with an error, and every request's filter carries them.
 */
export const CONDITION_LIMITS = { depth: 10, nodes: 200, stringLength: 1000 } as const
/** Full date-time with a zone, the only form both Prisma and the in-memory check read the same. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/

export class PolicyValidationError extends Error {
  constructor(readonly errors: PolicyError[]) {
    super(`invalid policy:\n  ${errors.map(formatPolicyError).join('\n  ')}`)
  }
}

export function formatPolicyError(error: PolicyError): string {
  const where = [error.role, error.ruleId ? `rule "${error.ruleId}"` : '', error.path].filter(Boolean).join(' ')
  return `${where}: ${error.message}`
}

/** Validates, then compiles: the only way rules reach enforcement. Throws `PolicyValidationError`. */
export function compileRules(document: RuleDocument, version: number, model: DataModel = dataModel()): CompiledRules {
  const errors = validateRules(document, model)
  if (errors.length) throw new PolicyValidationError(errors)
  return new CompiledRules(document, version, model)
}

export function validateRules(policy: RuleDocument, model: DataModel = dataModel()): PolicyError[] {
  const errors: PolicyError[] = []
  const seenIds = new Map<string, string>()
  for (const [role, rules] of Object.entries(policy)) {
    if (!(ROLES as readonly string[]).includes(role)) {
      errors.push({ role, ruleId: null, path: '', message: `unknown role "${role}" (known roles: ${ROLES.join(', ')})` })
    }
    for (const rule of rules) {
      const report = (path: string, message: string) => errors.push({ role, ruleId: rule.id, path, message })
      const earlier = seenIds.get(rule.id)
      if (earlier) report('id', `duplicate rule id (also used in role "${earlier}")`)
      seenIds.set(rule.id, role)
      const before = errors.length
      checkText(rule, report)
      if (rule.conditions && !checkSize(rule.conditions, report)) continue
      validateRule(rule, model, report)
      // CASL's own parse is only meaningful on conditions that passed the checks above.
      if (rule.conditions && errors.length === before) checkTranslatable(rule, list(rule.subject), report)
    }
  }
  return errors
}

type Report = (path: string, message: string) => void

/** Text that reaches PostgreSQL (rules are stored as JSONB, which refuses NUL). */
function checkText(rule: RawRule, report: Report): void {
  if (rule.reason?.includes('\u0000')) report('reason', 'the NUL character is not allowed')
  for (const field of list(rule.fields)) {
    if (field.includes('\u0000')) report('fields', 'the NUL character is not allowed')
    else if (field.length > CONDITION_LIMITS.stringLength)
      report('fields', `a field longer than ${CONDITION_LIMITS.stringLength} characters`)
  }
}

/**
 * Depth (each object or list is a level), number of keys and items, length of texts and keys,
 * and no NUL anywhere, walked without recursion so that no input can exhaust the stack.
 * Returns false, with one error, when the conditions are too big to look at further.
 */
function checkSize(conditions: unknown, report: Report): boolean {
  const { depth: maxDepth, nodes: maxNodes, stringLength } = CONDITION_LIMITS
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value: conditions, depth: 1, path: 'conditions' }]
  let nodes = 0
  const text = (value: string, path: string, what: string): boolean => {
    if (value.includes('\u0000')) report(path, `the NUL character is not allowed in ${what}`)
    else if (value.length > stringLength) report(path, `${what} longer than ${stringLength} characters`)
    else return true
    return false
  }
  while (stack.length) {
    const { value, depth, path } = stack.pop()!
    if (typeof value === 'string') {
      if (!text(value, path, 'a value')) return false
      continue
    }
    if (value === null || typeof value !== 'object') continue
    if (depth > maxDepth) {
      report(path, `conditions nest deeper than ${maxDepth} levels`)
      return false
    }
    const entries = Array.isArray(value) ? value.map((item, i) => [String(i), item] as const) : Object.entries(value)
    nodes += entries.length
    if (nodes > maxNodes) {
      report('conditions', `conditions have more than ${maxNodes} parts`)
      return false
    }
    for (const [key, item] of entries) {
      if (!Array.isArray(value) && !text(key, path, 'a name')) return false
      stack.push({ value: item, depth: depth + 1, path: `${path}/${key}` })
    }
  }
  return true
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

function validateRule(rule: RawRule, model: DataModel, report: Report): void {
  for (const action of list(rule.action)) {
    if (!(ACTIONS as readonly string[]).includes(action)) report('action', `unknown action "${action}" (known: ${ACTIONS.join(', ')})`)
  }
  const subjects = list(rule.subject)
  const models: ModelInfo[] = []
  for (const subject of subjects) {
    if (subject === 'all') continue
    const info = model.get(subject)
    if (info) models.push(info)
    else report('subject', `unknown subject "${subject}" (known: all, ${[...model.keys()].join(', ')})`)
  }
  const onAll = subjects.includes('all')
  if (onAll && (rule.conditions || rule.fields)) {
    report(
      rule.conditions ? 'conditions' : 'fields',
      'rules on subject "all" cannot have conditions or fields: they would not translate to every table',
    )
  }
  if (rule.fields && list(rule.action).some((action) => action !== 'create' && action !== 'update')) {
    // Responses, search and ordering are not filtered per field, so a field rule on reading
    // (or on manage, which includes reading) would promise more than it enforces.
    report('fields', 'fields can only restrict create and update rules')
  }
  for (const field of list(rule.fields)) {
    for (const info of models) {
      if (field.includes('*')) {
        const secret = secretsMatching(field, info)
        if (secret) report('fields', `"${field}" covers the secret field "${secret}" of ${info.name}: rules may not name it`)
        continue
      }
      const known = info.fields.get(field)
      if (!known || known.kind !== 'scalar') report('fields', `unknown field "${field}" on ${info.name}`)
      else if (known.secret) report('fields', `"${field}" is a secret field of ${info.name}: rules may not name it`)
    }
  }
  if (rule.conditions) {
    for (const info of models) checkWhere(rule.conditions, info, model, 'conditions', report)
  }
}

/** The first secret field of `info` a CASL field pattern (`*` one segment, `**` any) other than a bare `*` or `**` matches. */
function secretsMatching(pattern: string, info: ModelInfo): string | undefined {
  if (pattern === '*' || pattern === '**') return undefined
  const regex = new RegExp(
    `^${pattern
      .split(/(\*\*|\*)/)
      .map((part) => (part === '**' ? '.*' : part === '*' ? '[^.]*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  )
  return [...info.fields.values()].find((field) => field.kind === 'scalar' && field.secret && regex.test(field.name))?.name
}

function checkWhere(where: unknown, info: ModelInfo, model: DataModel, path: string, mark: Report): void {
  if (!isPlainObject(where)) {
    mark(path, `expected an object of field conditions on ${info.name}`)
    return
  }
  if (Object.keys(where).length === 0) {
    // Prisma reads {} as "every row" while CASL's in-memory check may read it otherwise.
    mark(path, 'an empty condition is ambiguous: leave conditions out to match every row')
    return
  }
  for (const [key, value] of Object.entries(where)) {
    const at = `${path}/${key}`
    if (LOGICAL.has(key)) {
      if (!Array.isArray(value) && !OBJECT_FORM_ALLOWED.has(key)) {
        mark(at, `${key} must be a list of conditions, e.g. [{ … }, { … }]`)
        continue
      }
      const parts = Array.isArray(value) ? value : [value]
      if (parts.length === 0) mark(at, `${key} needs at least one condition (an empty list means different things in SQL and in memory)`)
      for (const [i, part] of parts.entries()) checkWhere(part, info, model, Array.isArray(value) ? `${at}/${i}` : at, mark)
      continue
    }
    const field = info.fields.get(key)
    if (!field) {
      mark(at, `unknown field "${key}" on ${info.name}`)
      continue
    }
    if (field.kind === 'scalar' && field.secret) {
      // Validation and impact would answer whether it matches: an oracle on the secret.
      mark(at, `"${key}" is a secret field of ${info.name}: rules may not read it`)
      continue
    }
    if (field.kind === 'relation') {
      const allowed = field.many ? TO_MANY_OPERATORS : TO_ONE_OPERATORS
      if (!isPlainObject(value) || Object.keys(value).length === 0) {
        mark(at, `relation "${key}" needs one of ${[...allowed].join(', ')}`)
        continue
      }
      for (const [op, nested] of Object.entries(value)) {
        if (!allowed.has(op)) {
          mark(
            `${at}/${op}`,
            `unknown operator "${op}" for ${field.many ? 'list' : 'single'} relation "${key}" (use ${[...allowed].join(', ')})`,
          )
          continue
        }
        checkWhere(nested, model.get(field.target)!, model, `${at}/${op}`, mark)
      }
      continue
    }
    if (isPlainObject(value)) {
      const operators = Object.entries(value)
      if (operators.length === 0) mark(at, 'empty condition')
      if ('mode' in value && !operators.some(([op]) => TEXT_MATCH_OPERATORS.has(op))) {
        mark(`${at}/mode`, 'mode only applies with contains, startsWith or endsWith')
      } else if ('mode' in value && operators.some(([op]) => op !== 'mode' && !TEXT_MATCH_OPERATORS.has(op))) {
        // Prisma applies mode to every operator beside it, CASL only to the text matches.
        mark(`${at}/mode`, 'mode cannot be combined with operators other than contains, startsWith and endsWith; write those separately')
      }
      for (const [op, operand] of operators) {
        const opAt = `${at}/${op}`
        if (TEXT_MATCH_OPERATORS.has(op) && typeof operand === 'string' && operand.includes('${')) {
          // LIKE would read _ and % inside a username as wildcards while CASL would not.
          mark(opAt, `placeholders cannot be used with "${op}"; use equals`)
          continue
        }
        if (!SCALAR_OPERATORS.has(op)) {
          mark(opAt, `unknown operator "${op}" (known: ${[...SCALAR_OPERATORS].join(', ')})`)
          continue
        }
        if (STRING_ONLY_OPERATORS.has(op) && field.type !== 'String') {
          mark(opAt, `operator "${op}" applies to text fields, "${key}" is ${field.type}`)
          continue
        }
        if (TEXT_MATCH_OPERATORS.has(op) && typeof operand === 'string' && LIKE_SPECIAL.test(operand)) {
          mark(opAt, `"${op}" cannot match %, _ or \\ (SQL reads them as wildcards); use equals or in`)
          continue
        }
        if (['lt', 'lte', 'gt', 'gte'].includes(op) && field.type === 'String') {
          // The database orders text by its collation, the in-memory check by code unit.
          mark(opAt, `operator "${op}" cannot compare text ("${key}" is String): the database and the in-memory check order it differently`)
          continue
        }
        if (op === 'mode') {
          if (operand !== 'insensitive' && operand !== 'default') mark(opAt, 'mode must be "insensitive" or "default"')
        } else if (op === 'in' || op === 'notIn') {
          if (!Array.isArray(operand)) mark(opAt, `"${op}" expects a list`)
          else operand.forEach((item, i) => checkValue(item, field.type, `${opAt}/${i}`, mark))
        } else if (op === 'not' && isPlainObject(operand)) {
          checkWhere({ [key]: operand }, info, model, path, mark)
        } else {
          if (['lt', 'lte', 'gt', 'gte'].includes(op) && !ORDERED_TYPES.has(field.type)) {
            mark(opAt, `operator "${op}" needs an ordered field, "${key}" is ${field.type}`)
          }
          checkValue(operand, field.type, opAt, mark)
        }
      }
      continue
    }
    checkValue(value, field.type, at, mark)
  }
}

function checkValue(value: unknown, type: ScalarType, path: string, report: Report): void {
  if (typeof value === 'string') {
    for (const name of placeholdersIn(value)) {
      if (!PLACEHOLDERS[name]) {
        report(
          path,
          `unknown placeholder "\${${name}}" (known: ${Object.keys(PLACEHOLDERS)
            .map((p) => `\${${p}}`)
            .join(', ')})`,
        )
        return
      }
    }
    const standsFor = placeholderType(value)
    if (standsFor) {
      if (standsFor !== type) report(path, `placeholder "${value}" is ${standsFor}, the field is ${type}`)
      return
    }
  }
  const ok =
    value === null
      ? false
      : type === 'Int'
        ? Number.isInteger(value) && (value as number) >= -INT32 && (value as number) < INT32
        : type === 'BigInt'
          ? Number.isInteger(value)
          : type === 'Float' || type === 'Decimal'
            ? typeof value === 'number' && Number.isFinite(value)
            : type === 'Boolean'
              ? typeof value === 'boolean'
              : type === 'String'
                ? typeof value === 'string'
                : type === 'DateTime'
                  ? typeof value === 'string' && ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))
                  : false
  if (!ok) report(path, `${JSON.stringify(value)} is not a valid ${type}`)
}

/** Last line of defence: CASL itself must parse the conditions and build a SQL filter from them. */
function checkTranslatable(rule: RawRule, subjects: string[], report: Report): void {
  const sample = { id: 1, username: 'sample', role: 'member' }
  try {
    const ability = createPrismaAbility([interpolate(rule, sample) as never])
    for (const subject of subjects) {
      ability.rulesFor(list(rule.action)[0]!, subject).map((r) => r.ast)
      accessibleBy(ability, list(rule.action)[0]).ofType(subject as never)
    }
  } catch (error) {
    report('conditions', `cannot be translated to SQL: ${(error as Error).message}`)
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
