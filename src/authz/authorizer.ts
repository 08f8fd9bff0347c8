import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'
import type { AppAbility, CompiledRules } from './compiled-rules.ts'
import { whatCanUserDo, whoCanAccess, type PageQuery } from './access.ts'
import { dataModel, readableScalars, type RelationField } from './data-model.ts'
import { delegate } from './delegates.ts'
import { decideAccess, decideCreate, decideMove, decideOn, type Decision, type ParentRef } from './decisions.ts'
import type { PolicyUser } from './placeholders.ts'

// The one way routes reach protected data. Every read, list and write goes through a method
// here that loads what the rules need, asks the policy, and throws `DeniedError` when the answer
// is no; writes run in the same transaction as their check. Routes never write a condition.

/** Every model of the schema is a subject of the policy. */
export type Subject = Prisma.ModelName
type Delegates = { [S in Subject]: PrismaClient[Uncapitalize<S>] }
type Db = PrismaClient | Prisma.TransactionClient

type FindArgs<S extends Subject> = NonNullable<Prisma.Args<Delegates[S], 'findUnique'>>
/** Prisma's `include`/`select` for a response, typed per subject. */
export type Shape<S extends Subject> = { [K in keyof FindArgs<S> as K extends 'include' | 'select' ? K : never]?: FindArgs<S>[K] }
export type Found<S extends Subject, A> = Prisma.Result<Delegates[S], A, 'findUniqueOrThrow'>
export type CreateData<S extends Subject> = Prisma.Args<Delegates[S], 'create'>['data']
export type UpdateData<S extends Subject> = Prisma.Args<Delegates[S], 'update'>['data']
export type Where<S extends Subject> = NonNullable<Prisma.Args<Delegates[S], 'findMany'>['where']>
/** One object: its id, or a unique key of its model (e.g. a membership by project and user). */
export type ObjectKey<S extends Subject> = number | FindArgs<S>['where']

type Row = Record<string, unknown>

/** What was asked when the answer was no, for the audit log. */
export interface DenialContext {
  action: string
  subject: string
  objectId?: number
}

/** A refusal; the error handler turns it into a problem answer and the audit log records it. */
export class DeniedError extends Error {
  constructor(
    readonly decision: Extract<Decision, { allowed: false }>,
    readonly context: DenialContext,
  ) {
    super(decision.detail)
  }
}

function enforce(decision: Decision, context: DenialContext): void {
  if (!decision.allowed) throw new DeniedError(decision, context)
}

/**
 * Runs after the policy allowed a write, in its transaction, with the row as it is (or, for a
 * create, as it will be): for invariants the policy cannot express. It may throw.
 */
export type BeforeWrite = (tx: Prisma.TransactionClient, row: Row) => Promise<void>

export interface ListQuery {
  limit: number
  offset: number
  /** A field of the subject, `-` first for descending; ties are broken by the primary key. */
  ordering: string
}

export interface ListOptions<S extends Subject, A, R> {
  /** The request's own filters (search, flags), combined with the policy's. */
  filters?: Array<Where<S>>
  shape?: A
  toItem: (row: Found<S, A>) => R
}

export interface Page<R> {
  items: R[]
  total: number
  limit: number
  offset: number
}

export class Authorizer {
  constructor(
    readonly ability: AppAbility,
    readonly compiled: CompiledRules,
    readonly user: PolicyUser,
    private readonly db: PrismaClient,
  ) {}

  get policyVersion(): number {
    return this.compiled.version
  }

  /** Function level: 403 unless some rule could allow `action` on `subject`. */
  assertAccess(action: string, subject: Subject): void {
    enforce(decideAccess(this.ability, action, subject), { action, subject })
  }

  /**
   * A page of what the caller may read: the policy's filter ∧ `filters`, rows and total. The
   * statements of a page go out together; a transaction would add BEGIN/COMMIT without making
   * them agree (each statement has its own snapshot at READ COMMITTED).
   */
  async list<S extends Subject, A extends Shape<S>, R>(subject: S, query: ListQuery, options: ListOptions<S, A, R>): Promise<Page<R>> {
    const policy = this.filter('read', subject)
    const filters = options.filters ?? []
    const where = { AND: [policy, ...filters] }
    const shape = options.shape ?? {}
    const { rows, total } = this.compiled.filterReadsRelations(this.ability, 'read', subject)
      ? await this.pageByKeys(subject, policy, filters, query, shape)
      : await this.pageByOffset(subject, where, query, shape)
    return { items: rows.map((row) => options.toItem(row as Found<S, A>)), total, limit: query.limit, offset: query.offset }
  }

  /** The page and the total as SQL says them: right when the filter is a condition on the subject's own columns, which its indexes serve. */
  private async pageByOffset(subject: Subject, where: Row, query: ListQuery, shape: object): Promise<{ rows: Row[]; total: number }> {
    const table = delegate(this.db, subject)
    const [rows, total] = await Promise.all([
      table.findMany({ where, ...shape, orderBy: orderBy(query.ordering, primaryKey(subject)), skip: query.offset, take: query.limit }),
      table.count({ where }),
    ])
    return { rows, total }
  }

  /**
   * For a filter through a relation (a task readable because of its project's owner). With
   * `ORDER BY id LIMIT 50` the planner assumes the matching rows are spread evenly over the
   * table and walks the primary key until it has 50: free for a caller whose rows come first,
   * the whole table for one whose rows come last. Asked for all the matching keys instead, it
   * can only win by starting from the caller's own parents (cost ∝ the caller's rows, under
   * custom and generic plans alike); the keys give the total, and the page is fetched by key,
   * under the policy's filter again. Past `KEYED_LIST_LIMIT` keys the caller reads a large
   * share of the table, so offset paging is cheap again and the keys stop.
   *
   * A filter that is a disjunction (owned OR shared with me) is not driven by any one index: the
   * planner reads the whole table and tests both sides on every row. Each side alone is, so the
   * keys are fetched per side, in the list's order, and united; the union is exact, because
   * every other condition of the filter is repeated in each side (A ∧ (B ∨ C) = (A ∧ B) ∨ (A ∧ C)).
   * Its size is the total. The page is among the first offset + limit keys of each side (the
   * first n of a union of ordered lists come from the first n of each), so only those are read
   * again, ordered and cut by SQL: no comparison of values (collations) in JavaScript, and a
   * page statement whose key list is too short for the planner to prefer walking an index of
   * the ordering (`title`) over the whole table.
   */
  private async pageByKeys(
    subject: Subject,
    policy: Readonly<Row>,
    filters: readonly unknown[],
    query: ListQuery,
    shape: object,
  ): Promise<{ rows: Row[]; total: number }> {
    const table = delegate(this.db, subject)
    const key = primaryKey(subject)
    const order = orderBy(query.ordering, key)
    const where = conjunction(subject, [policy, ...filters])
    const end = query.offset + query.limit
    const fetchKeys = (side: Readonly<Row>) =>
      table
        .findMany({ where: conjunction(subject, [side, ...filters]), select: { [key]: true }, orderBy: order, take: KEYED_LIST_LIMIT + 1 })
        .then((rows) => rows.map((row) => row[key]))
    const sides = disjuncts(policy)
    if (sides.length === 1) {
      const keys = await fetchKeys(policy)
      const complete = keys.length <= KEYED_LIST_LIMIT
      if (!complete && end > KEYED_LIST_LIMIT) return this.pageByOffset(subject, where, query, shape)
      const page = keys.slice(query.offset, end)
      const [rows, total] = await Promise.all([
        page.length ? table.findMany({ where: { AND: [{ [key]: { in: page } }, where] }, ...shape, orderBy: order }) : [],
        complete ? keys.length : table.count({ where }),
      ])
      return { rows, total }
    }
    const keysBySide = await Promise.all(sides.map(fetchKeys))
    const union = new Set(keysBySide.flat())
    if (union.size > KEYED_LIST_LIMIT) return this.pageByOffset(subject, where, query, shape)
    const candidates = [...new Set(keysBySide.flatMap((keys) => keys.slice(0, end)))]
    const rows = candidates.length
      ? await table.findMany({
          where: { AND: [{ [key]: { in: candidates } }, where] },
          ...shape,
          orderBy: order,
          skip: query.offset,
          take: query.limit,
        })
      : []
    return { rows, total: union.size }
  }

  /** One object the caller may `action`: 404 when missing or unreadable, 403 when readable but not allowed. */
  async findOne<S extends Subject, A extends Shape<S> = object>(
    subject: S,
    id: ObjectKey<S>,
    action = 'read',
    shape?: A,
  ): Promise<Found<S, A>> {
    return (await this.check(this.db, subject, id, action, shape)) as Found<S, A>
  }

  /**
   * Creates `data` if the caller may: the parent it names included. `clientFields` are the
   * fields the client chose (checked against field rules); the rest, such as an owner taken
   * from the token, are the server's.
   */
  async create<S extends Subject, A extends Shape<S> = object>(
    subject: S,
    data: CreateData<S>,
    options: { clientFields?: string[]; shape?: A; before?: BeforeWrite } = {},
  ): Promise<Found<S, A>> {
    const row = data as Row
    const clientFields = options.clientFields ?? Object.keys(row)
    return this.db.$transaction(async (tx) => {
      // A parent named by the server (a project's owner, from the token) exists: no 400 for it.
      const parent = await this.loadParent(tx, subject, Object.fromEntries(clientFields.map((field) => [field, row[field]])))
      const related = await this.loadRelated(tx, subject, row, parent?.relation)
      enforce(decideCreate(this.ability, subject, { ...row, ...related }, parent, clientFields), { action: 'create', subject })
      await options.before?.(tx, row)
      return (await delegate(tx, subject).create({ data, ...options.shape })) as Found<S, A>
    })
  }

  /**
   * The check of `create`, without the write: 403 unless the caller may create `data` (400 when
   * the parent it names does not exist). For a question such as "may the caller share this
   * project", asked as "may they create a membership of it".
   */
  async assertCanCreate(subject: Subject, data: Row): Promise<void> {
    const parent = await this.loadParent(this.db, subject, data)
    enforce(decideCreate(this.ability, subject, data, parent), { action: 'create', subject })
  }

  /** Who may reach project `projectId` (`null`: it does not exist), from the rules; the caller's right to ask is the route's check. */
  whoCanAccess(projectId: number, page: PageQuery) {
    return whoCanAccess(this.db, this.compiled, projectId, page)
  }

  /** What `user` may reach, limited to what the caller may read. */
  whatCanUserDo(user: PolicyUser, page: PageQuery) {
    return whatCanUserDo(this.db, this.compiled, user, page, this.ability)
  }

  /**
   * Applies `changes` if the caller may: `update` on the object and on every changed field,
   * and when a foreign key changes, `update` on the object as it would be under its new parent.
   * `before` runs after the checks.
   */
  async update<S extends Subject, A extends Shape<S> = object>(
    subject: S,
    id: ObjectKey<S>,
    changes: UpdateData<S>,
    options: { shape?: A; before?: BeforeWrite } = {},
  ): Promise<Found<S, A>> {
    const proposed = changes as Row
    return this.db.$transaction(async (tx) => {
      const row = await this.check(tx, subject, id, 'update', undefined, Object.keys(proposed))
      const moved = Object.fromEntries(Object.entries(proposed).filter(([key, value]) => isForeignKey(subject, key) && value !== row[key]))
      if (Object.keys(moved).length) {
        const parent = await this.loadParent(tx, subject, moved)
        if (parent)
          enforce(decideMove(this.ability, subject, { ...row, ...proposed }, parent), {
            action: 'update',
            subject,
            objectId: idOf(subject, row),
          })
      }
      await options.before?.(tx, row)
      return (await delegate(tx, subject).update({ where: byKey(subject, idOf(subject, row)), data: changes, ...options.shape })) as Found<
        S,
        A
      >
    })
  }

  /** Deletes the object if the caller may; `before` as for `update`. */
  async delete<S extends Subject>(subject: S, id: ObjectKey<S>, options: { before?: BeforeWrite } = {}): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const row = await this.check(tx, subject, id, 'delete')
      await options.before?.(tx, row)
      await delegate(tx, subject).delete({ where: byKey(subject, idOf(subject, row)) })
    })
  }

  /** The Prisma `where` of every row the caller may `action` (403 when no rule could ever allow it). */
  private filter(action: string, subject: Subject): Readonly<Row> {
    this.assertAccess(action, subject)
    return this.compiled.filterFor(this.ability, action, subject)
  }

  private async check(db: Db, subject: Subject, id: unknown, action: string, shape?: object, fields: string[] = []): Promise<Row> {
    const row = await this.load(db, subject, id, shape)
    const objectId = row ? idOf(subject, row) : typeof id === 'number' ? id : undefined
    enforce(decideOn(this.ability, action, subject, row, fields), { action, subject, ...(objectId === undefined ? {} : { objectId }) })
    return row!
  }

  /** The row with the related rows its rules read, merged with the response's `shape`. */
  private load(db: Db, subject: Subject, id: unknown, shape: { include?: unknown; select?: unknown } = {}): Promise<Row | null> {
    const needs = this.compiled.relationSelects.get(subject) ?? {}
    const where = typeof id === 'number' ? byKey(subject, id) : (id as Row)
    if (shape.select)
      return delegate(db, subject).findUnique({ where, select: mergeSelects({ ...scalarSelect(subject), ...needs }, shape.select as Row) })
    const include = mergeSelects(needs, (shape.include ?? {}) as Row)
    const omit = secretOmit(subject)
    return delegate(db, subject).findUnique({ where, ...(Object.keys(include).length ? { include } : {}), ...(omit ? { omit } : {}) })
  }

  /**
   * The parent a new or moved object names, loaded with what the rules read of it. With several
   * foreign keys in `data` (a membership names a project and a user), the one the rules read wins.
   */
  private async loadParent(db: Db, subject: Subject, data: Row): Promise<ParentRef | undefined> {
    const needs = this.compiled.relationSelects.get(subject) ?? {}
    const named = [...dataModel().get(subject)!.fields.values()].filter(
      (field): field is RelationField & { foreignKey: string } =>
        field.kind === 'relation' && field.foreignKey !== undefined && field.foreignKey in data,
    )
    const relation = named.find((field) => field.name in needs) ?? named[0]
    if (!relation) return undefined
    const row = await delegate(db, relation.target).findUnique({
      where: byKey(relation.target, data[relation.foreignKey]),
      select: { [primaryKey(relation.target)]: true, ...(needs[relation.name]?.select ?? {}) },
    })
    return { field: relation.foreignKey, subject: relation.target, relation: relation.name, row }
  }

  /**
   * The single relations of a new object that the rules read, other than `parent`: a membership's
   * user beside its project, a project's owner named by the server. Left out, a relation reads as
   * missing in memory (false under `is`, true under `isNot`) where SQL reads the related row once
   * the object exists, so the decision would differ from every later check, in either direction.
   */
  private async loadRelated(db: Db, subject: Subject, data: Row, parent?: string): Promise<Row> {
    const needs = this.compiled.relationSelects.get(subject) ?? {}
    const related: Row = {}
    for (const field of dataModel().get(subject)!.fields.values()) {
      const need = needs[field.name]
      if (field.kind !== 'relation' || !field.foreignKey || field.name === parent || !need || data[field.foreignKey] === undefined) continue
      related[field.name] = await delegate(db, field.target).findUnique({
        where: byKey(field.target, data[field.foreignKey]),
        select: { [primaryKey(field.target)]: true, ...need.select },
      })
    }
    return related
  }
}

/** Keys a list fetches at most to page by key (≈1 µs of the server's CPU each). */
export const KEYED_LIST_LIMIT = 5000

function primaryKey(subject: string): string {
  return dataModel().get(subject)!.primaryKey
}

/**
 * The sides of a filter that is a disjunction, each with the filter's other conditions:
 * `{ A, OR: [B, C] }` → `[{ A, B }, { A, C }]` (as AND lists). Anything else is one side.
 */
function disjuncts(where: Readonly<Row>): Array<Readonly<Row>> {
  const { OR: alternatives, ...rest } = where
  if (!Array.isArray(alternatives) || alternatives.length < 2) return [where]
  return (alternatives as Row[]).map((alternative) => (Object.keys(rest).length ? { AND: [rest, alternative] } : alternative))
}

/**
 * `parts` as one conjunction, with the conditions on each to-one relation merged into one:
 * `{ project: { is: A } }` ∧ `{ project: { is: B } }` → `{ project: { is: { AND: [A, B] } } }`,
 * and a disjunction whose alternatives all go through the same to-one relation becomes one
 * condition on it: `{ OR: [{ project: { is: A } }, { project: { is: B } }] }` →
 * `{ project: { is: { OR: [A, B] } } }`. Both are exact for a relation with at most one row
 * (no row: every side is false). Prisma joins the related table once per condition, and the
 * planner does not see that the joins are the same row: with the policy's `project.ownerId = me`
 * on one join and a request's `project.ownerId ≠ me` (or the membership test) on another, it
 * hashes the whole projects table rather than probe it for each of a page's rows.
 */
function conjunction(subject: string, parts: readonly unknown[]): Row {
  const fields = dataModel().get(subject)!.fields
  const merged = new Map<string, unknown[]>()
  const rest: Row[] = []
  /** The relation and its condition, when `where` is exactly one condition on a to-one relation. */
  const throughRelation = (where: unknown): [string, unknown] | undefined => {
    if (!isCondition(where)) return undefined
    const entries = Object.entries(where)
    if (entries.length !== 1) return undefined
    const [name, value] = entries[0]!
    if (name === 'OR' && Array.isArray(value) && value.length > 0) {
      const sides = value.map(throughRelation)
      const relation = sides[0]?.[0]
      if (relation === undefined || sides.some((side) => side?.[0] !== relation)) return undefined
      return [relation, sides.length === 1 ? sides[0]![1] : { OR: sides.map((side) => side![1]) }]
    }
    const field = fields.get(name)
    if (field?.kind !== 'relation' || field.many || !isCondition(value) || Object.keys(value).length !== 1 || !isCondition(value.is))
      return undefined
    return [name, value.is]
  }
  const visit = (part: unknown): void => {
    if (!isCondition(part)) return
    for (const [name, value] of Object.entries(part)) {
      if (name === 'AND') {
        for (const nested of Array.isArray(value) ? (value as unknown[]) : [value]) visit(nested)
        continue
      }
      const relation = throughRelation({ [name]: value })
      if (relation) merged.set(relation[0], [...(merged.get(relation[0]) ?? []), relation[1]])
      else rest.push({ [name]: value })
    }
  }
  for (const part of parts) visit(part)
  for (const [name, conditions] of merged) rest.push({ [name]: { is: conditions.length === 1 ? conditions[0] : { AND: conditions } } })
  return { AND: rest }
}

function isCondition(value: unknown): value is Row {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value)
}

function byKey(subject: string, id: unknown): Row {
  return { [primaryKey(subject)]: id }
}

function idOf(subject: string, row: Row): number {
  return row[primaryKey(subject)] as number
}

/** Every scalar of the subject the rules may read: secrets are never loaded for a decision. */
function scalarSelect(subject: string): Row {
  return Object.fromEntries(readableScalars(dataModel().get(subject)!).map((field) => [field.name, true]))
}

/** Prisma `omit` of the subject's secret fields, if it has any. */
function secretOmit(subject: string): Row | undefined {
  const secrets = [...dataModel().get(subject)!.fields.values()].filter((field) => field.kind === 'scalar' && field.secret)
  return secrets.length ? Object.fromEntries(secrets.map((field) => [field.name, true])) : undefined
}

function isForeignKey(subject: string, field: string): boolean {
  for (const relation of dataModel().get(subject)!.fields.values()) {
    if (relation.kind === 'relation' && relation.foreignKey === field) return true
  }
  return false
}

/** Prisma `orderBy` for an allow-listed `ordering` value; the key breaks ties so pages are stable. */
export function orderBy(ordering: string, key: string): Array<Record<string, 'asc' | 'desc'>> {
  const descending = ordering.startsWith('-')
  const field = descending ? ordering.slice(1) : ordering
  const order: Record<string, 'asc' | 'desc'> = { [field]: descending ? 'desc' : 'asc' }
  return field === key ? [order] : [order, { [key]: 'asc' }]
}

/** Deep merge of two Prisma include/select trees (the rules' needs and the response's). */
function mergeSelects(a: Row, b: Row): Row {
  const out: Row = { ...a }
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key]
    out[key] = mine && typeof mine === 'object' && value && typeof value === 'object' ? mergeSelects(mine as Row, value as Row) : value
  }
  return out
}
