import { accessibleBy, createPrismaAbility } from '@casl/prisma/runtime'
import type { Ability } from '@casl/ability'
import { packRules } from '@casl/ability/extra'
import { dataModel, type DataModel, type ModelInfo } from './data-model.ts'
import type { RawRule, RuleDocument } from '../shared/rule-format.ts'
import { containsPlaceholder, interpolate, type PolicyUser } from './placeholders.ts'

// Rules already validated by the policy's life cycle, turned into what requests need: abilities
// per user, cached, list filters, and the relations each subject's rules look at.

// Subjects are Prisma models; conditions are Prisma `where` objects.
export type AppAbility = Ability<[string, string | Record<string, unknown>], Record<string, unknown>>

/** A compiled list filter: the Prisma `where`, and whether it reaches through a relation. */
interface ListFilter {
  where: Readonly<Record<string, unknown>>
  readsRelations: boolean
}

/** A Prisma `select` tree of the related rows the rules of a subject read, e.g. `{ project: { select: { ownerId: true } } }`. */
export type RelationSelect = Record<string, { select: Record<string, true | { select: Record<string, unknown> }> }>

const ABILITY_CACHE_SIZE = 10_000

export class CompiledRules {
  readonly relationSelects: ReadonlyMap<string, RelationSelect>
  private readonly staticAbilities = new Map<string, AppAbility>()
  private readonly personalRoles = new Set<string>()
  private readonly userAbilities = new Map<string, AppAbility>()
  /** For a role the policy does not mention: no rules, so everything is denied. */
  private readonly noAbility = createPrismaAbility<AppAbility>([])
  private readonly filters = new WeakMap<AppAbility, Map<string, ListFilter>>()

  readonly document: RuleDocument

  /** `document` must have passed the life cycle's validation: compiling assumes well-formed rules. */
  constructor(
    document: RuleDocument,
    readonly version: number,
    private readonly model: DataModel = dataModel(),
  ) {
    this.relationSelects = collectRelationSelects(document, model)
    document = withDates(document, model)
    this.document = document
    for (const [role, rules] of Object.entries(document)) {
      if (rules.some((rule) => containsPlaceholder(rule.conditions))) {
        this.personalRoles.add(role)
      } else {
        this.staticAbilities.set(role, createPrismaAbility<AppAbility>(rules as never))
      }
    }
  }

  /** Whether the role's rules name the user (so each user gets an ability of their own). */
  isPersonal(role: string): boolean {
    return this.personalRoles.has(role)
  }

  /** The rules of `user.role` with its placeholders filled in; an unknown role has none. */
  rulesFor(user: PolicyUser): RawRule[] {
    const rules = Object.hasOwn(this.document, user.role) ? this.document[user.role]! : []
    if (!this.personalRoles.has(user.role)) return rules
    // Only conditions take placeholders; a reason is shown as written.
    return rules.map((rule) => (rule.conditions ? { ...rule, conditions: interpolate(rule.conditions, user) } : rule))
  }

  /** Roles whose rules name no user share one ability; others get one per user, kept in a bounded cache. */
  abilityFor(user: PolicyUser): AppAbility {
    const shared = this.staticAbilities.get(user.role)
    if (!shared && !this.personalRoles.has(user.role)) return this.noAbility
    if (shared) return shared
    const key = `${user.id}\u0000${user.role}\u0000${user.username}`
    const cached = this.userAbilities.get(key)
    if (cached) return cached
    const ability = createPrismaAbility<AppAbility>(this.rulesFor(user) as never)
    if (this.userAbilities.size >= ABILITY_CACHE_SIZE) {
      this.userAbilities.delete(this.userAbilities.keys().next().value!)
    }
    this.userAbilities.set(key, ability)
    return ability
  }

  /**
   * accessibleBy(ability, action).ofType(subject), memoised per ability: abilities are cached and
   * never change, and with many rules building the filter costs far more than the query plumbing.
   * Callers must not mutate the result.
   */
  filterFor(ability: AppAbility, action: string, subject: string): Readonly<Record<string, unknown>> {
    return this.listFilter(ability, action, subject).where
  }

  /**
   * Whether the filter of `filterFor(ability, action, subject)` reads another table (a relation
   * condition such as `project: { is: { ownerId } }`). The planner cannot know where in this
   * table the rows such a filter matches sit, so lists choose their query shape by it.
   */
  filterReadsRelations(ability: AppAbility, action: string, subject: string): boolean {
    return this.listFilter(ability, action, subject).readsRelations
  }

  /** Both answers above, worked out once per ability, action and subject (lists ask on every request). */
  private listFilter(ability: AppAbility, action: string, subject: string): ListFilter {
    let byKey = this.filters.get(ability)
    if (!byKey) this.filters.set(ability, (byKey = new Map<string, ListFilter>()))
    const key = `${action}\u0000${subject}`
    let filter = byKey.get(key)
    if (!filter) {
      const info = this.model.get(subject)!
      const where = explicitFilter(accessibleBy(ability, action).ofType(subject as never) as Record<string, unknown>, info.primaryKey)
      byKey.set(key, (filter = { where, readsRelations: readsRelations(where, info) }))
    }
    return filter
  }

  /** The caller's rules in CASL's packed form, for a front end to build the same ability. */
  packedRulesFor(user: PolicyUser): unknown[] {
    return packRules(this.rulesFor(user).map(({ id: _id, ...rule }) => rule) as never)
  }
}

function collectRelationSelects(document: RuleDocument, model: DataModel): Map<string, RelationSelect> {
  const selects = new Map<string, RelationSelect>()
  for (const rules of Object.values(document)) {
    for (const rule of rules) {
      if (!rule.conditions) continue
      for (const subject of Array.isArray(rule.subject) ? rule.subject : [rule.subject]) {
        const info = model.get(subject)
        if (!info) continue
        const select = selects.get(subject) ?? {}
        addRelations(rule.conditions, info, model, select)
        if (Object.keys(select).length) selects.set(subject, select)
      }
    }
  }
  return selects
}

/** Adds to `select` what `where` reads through relations (and, below the subject itself, the scalars). */
function addRelations(where: unknown, info: ModelInfo, model: DataModel, select: Record<string, unknown>, scalars = false): void {
  if (!where || typeof where !== 'object') return
  for (const [key, value] of Object.entries(where)) {
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      for (const part of Array.isArray(value) ? value : [value]) addRelations(part, info, model, select, scalars)
      continue
    }
    const field = info.fields.get(key)
    if (!field) continue
    if (field.kind === 'scalar') {
      // Validation refuses rules on secrets; should one get here, it still is not loaded.
      if (scalars && !field.secret) select[key] = true
      continue
    }
    const entry = (select[key] ??= { select: {} }) as { select: Record<string, unknown> }
    for (const nested of Object.values(value as object)) addRelations(nested, model.get(field.target)!, model, entry.select, true)
  }
}

function readsRelations(where: unknown, info: ModelInfo): boolean {
  if (!where || typeof where !== 'object') return false
  return Object.entries(where).some(([key, value]) =>
    key === 'AND' || key === 'OR' || key === 'NOT'
      ? (Array.isArray(value) ? value : [value]).some((part) => readsRelations(part, info))
      : info.fields.get(key)?.kind === 'relation',
  )
}

/**
 * DateTime values in conditions become Date objects: Prisma takes either, but the in-memory
 * check compares a row's Date with a string as text, which would never match.
 */
function withDates(document: RuleDocument, model: DataModel): RuleDocument {
  const convert = (where: unknown, info: ModelInfo): unknown => {
    if (!where || typeof where !== 'object' || Array.isArray(where)) return where
    const out: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(where)) {
      const field = info.fields.get(key)
      if (key === 'AND' || key === 'OR' || key === 'NOT') {
        out[key] = Array.isArray(value) ? value.map((part) => convert(part, info)) : convert(value, info)
      } else if (field?.kind === 'relation') {
        const target = model.get(field.target)!
        out[key] = Object.fromEntries(Object.entries(value as object).map(([op, nested]) => [op, convert(nested, target)]))
      } else if (field?.kind === 'scalar' && field.type === 'DateTime') {
        out[key] = toDates(value)
      } else {
        out[key] = value
      }
    }
    return out
  }
  const toDates = (value: unknown): unknown =>
    typeof value === 'string' && !value.includes('${')
      ? new Date(value)
      : Array.isArray(value)
        ? value.map(toDates)
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([op, operand]) => [op, op === 'mode' ? operand : toDates(operand)]))
          : value
  return Object.fromEntries(
    Object.entries(document).map(([role, rules]) => [
      role,
      rules.map((rule) => {
        const subject = Array.isArray(rule.subject) ? undefined : model.get(rule.subject)
        return rule.conditions && subject ? { ...rule, conditions: convert(rule.conditions, subject) as Record<string, unknown> } : rule
      }),
    ]),
  )
}

/**
 * accessibleBy answers "nothing" with `{ OR: [] }` and "everything" with `{}`. Prisma reads both
 * correctly only at the top of a query: nested in AND it drops `OR: []` (so "nothing" becomes
 * "everything"), and `NOT: {}` matches every row. Lists combine the policy's filter with search
 * and filters, and the impact report negates it, so both become explicit conditions on the key.
 */
function explicitFilter(where: Record<string, unknown>, key: string): Record<string, unknown> {
  const nothing = { [key]: { in: [] } }
  const everything = { NOT: nothing }
  const visit = (node: unknown): unknown => {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return node
    const entries = Object.entries(node)
    if (entries.length === 0) return everything
    if (entries.length === 1 && Array.isArray((node as { OR?: unknown }).OR) && (node as { OR: unknown[] }).OR.length === 0) return nothing
    const out: Record<string, unknown> = {}
    for (const [name, value] of entries) {
      out[name] = name === 'AND' || name === 'OR' || name === 'NOT' ? (Array.isArray(value) ? value.map(visit) : visit(value)) : value
    }
    return out
  }
  return visit(where) as Record<string, unknown>
}
