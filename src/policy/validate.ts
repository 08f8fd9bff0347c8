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
const ORDERED_TYPES = new Set<ScalarType>(['Int', 'Float', 'BigInt', 'Decimal', 'DateTime', 'String'])
const TO_ONE_OPERATORS = new Set(['is', 'isNot'])
const TO_MANY_OPERATORS = new Set(['some', 'every', 'none'])
const LOGICAL = new Set(['AND', 'OR', 'NOT'])
/** Full date-time with a zone, the only form both Prisma and the in-memory check read the same. */
export const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/

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
      validateRule(rule, model, report)
      // CASL's own parse is only meaningful on conditions that passed the checks above.
      if (rule.conditions && errors.length === before) checkTranslatable(rule, list(rule.subject), report)
    }
  }
  return errors
}

type Report = (path: string, message: string) => void

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
      if (field.includes('*')) continue
      const known = info.fields.get(field)
      if (!known || known.kind !== 'scalar') report('fields', `unknown field "${field}" on ${info.name}`)
    }
  }
  if (rule.conditions) {
    for (const info of models) checkWhere(rule.conditions, info, model, 'conditions', report)
  }
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
      const parts = Array.isArray(value) ? value : [value]
      if (parts.length === 0 && key !== 'NOT') mark(at, `${key} needs at least one condition`)
      for (const [i, part] of parts.entries()) checkWhere(part, info, model, Array.isArray(value) ? `${at}/${i}` : at, mark)
      continue
    }
    const field = info.fields.get(key)
    if (!field) {
      mark(at, `unknown field "${key}" on ${info.name}`)
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
