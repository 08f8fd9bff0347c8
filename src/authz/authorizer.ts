import type { Prisma, PrismaClient } from '../generated/prisma/client.ts'
import type { AppAbility, CompiledRules } from './compiled-rules.ts'
import { dataModel, readableScalars } from './data-model.ts'
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

type Row = Record<string, unknown>
/** The delegate calls the authorizer makes, the same on every model. */
interface AnyDelegate {
  findUnique(args: object): Promise<Row | null>
  findMany(args: object): Promise<Row[]>
  count(args: object): Promise<number>
  create(args: object): Promise<Row>
  update(args: object): Promise<Row>
  delete(args: object): Promise<Row>
}

function delegate(db: Db, subject: string): AnyDelegate {
  return (db as unknown as Record<string, AnyDelegate>)[subject[0]!.toLowerCase() + subject.slice(1)]!
}

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
    const where = { AND: [this.filter('read', subject), ...(options.filters ?? [])] }
    const shape = options.shape ?? {}
    const { rows, total } = this.compiled.filterReadsRelations(this.ability, 'read', subject)
      ? await this.pageByKeys(subject, where, query, shape)
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
   */
  private async pageByKeys(subject: Subject, where: Row, query: ListQuery, shape: object): Promise<{ rows: Row[]; total: number }> {
    const table = delegate(this.db, subject)
    const key = primaryKey(subject)
    const order = orderBy(query.ordering, key)
    const end = query.offset + query.limit
    const keys = (await table.findMany({ where, select: { [key]: true }, orderBy: order, take: KEYED_LIST_LIMIT + 1 })).map(
      (row) => row[key],
    )
    const complete = keys.length <= KEYED_LIST_LIMIT
    if (!complete && end > KEYED_LIST_LIMIT) return this.pageByOffset(subject, where, query, shape)
    const page = keys.slice(query.offset, end)
    const [rows, total] = await Promise.all([
      page.length ? table.findMany({ where: { AND: [{ [key]: { in: page } }, where] }, ...shape, orderBy: order }) : [],
      complete ? keys.length : table.count({ where }),
    ])
    return { rows, total }
  }

  /** One object the caller may `action`: 404 when missing or unreadable, 403 when readable but not allowed. */
  async findOne<S extends Subject, A extends Shape<S> = object>(subject: S, id: number, action = 'read', shape?: A): Promise<Found<S, A>> {
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
    options: { clientFields?: string[]; shape?: A } = {},
  ): Promise<Found<S, A>> {
    const row = data as Row
    const clientFields = options.clientFields ?? Object.keys(row)
    return this.db.$transaction(async (tx) => {
      // A parent named by the server (a project's owner, from the token) exists and needs no lookup.
      const parent = await this.loadParent(tx, subject, Object.fromEntries(clientFields.map((field) => [field, row[field]])))
      enforce(decideCreate(this.ability, subject, row, parent, clientFields), { action: 'create', subject })
      return (await delegate(tx, subject).create({ data, ...options.shape })) as Found<S, A>
    })
  }

  /**
   * Applies `changes` if the caller may: `update` on the object and on every changed field,
   * and when a foreign key changes, `update` on the object as it would be under its new parent.
   * `before` runs after the checks, in the same transaction, for invariants the policy cannot
   * express (it may throw).
   */
  async update<S extends Subject, A extends Shape<S> = object>(
    subject: S,
    id: number,
    changes: UpdateData<S>,
    options: { shape?: A; before?: (tx: Prisma.TransactionClient, row: Row) => Promise<void> } = {},
  ): Promise<Found<S, A>> {
    const proposed = changes as Row
    return this.db.$transaction(async (tx) => {
      const row = await this.check(tx, subject, id, 'update', undefined, Object.keys(proposed))
      const moved = Object.fromEntries(Object.entries(proposed).filter(([key, value]) => isForeignKey(subject, key) && value !== row[key]))
      if (Object.keys(moved).length) {
        const parent = await this.loadParent(tx, subject, moved)
        if (parent) enforce(decideMove(this.ability, subject, { ...row, ...proposed }, parent), { action: 'update', subject, objectId: id })
      }
      await options.before?.(tx, row)
      return (await delegate(tx, subject).update({ where: { [primaryKey(subject)]: id }, data: changes, ...options.shape })) as Found<S, A>
    })
  }

  /** Deletes the object if the caller may; `before` as for `update`. */
  async delete(
    subject: Subject,
    id: number,
    options: { before?: (tx: Prisma.TransactionClient, row: Row) => Promise<void> } = {},
  ): Promise<void> {
    await this.db.$transaction(async (tx) => {
      const row = await this.check(tx, subject, id, 'delete')
      await options.before?.(tx, row)
      await delegate(tx, subject).delete({ where: { [primaryKey(subject)]: id } })
    })
  }

  /** The Prisma `where` of every row the caller may `action` (403 when no rule could ever allow it). */
  private filter(action: string, subject: Subject): Readonly<Row> {
    this.assertAccess(action, subject)
    return this.compiled.filterFor(this.ability, action, subject)
  }

  private async check(db: Db, subject: Subject, id: number, action: string, shape?: object, fields: string[] = []): Promise<Row> {
    const row = await this.load(db, subject, id, shape)
    enforce(decideOn(this.ability, action, subject, row, fields), { action, subject, objectId: id })
    return row!
  }

  /** The row with the related rows its rules read, merged with the response's `shape`. */
  private load(db: Db, subject: Subject, id: number, shape: { include?: unknown; select?: unknown } = {}): Promise<Row | null> {
    const needs = this.compiled.relationSelects.get(subject) ?? {}
    const where = { [primaryKey(subject)]: id }
    if (shape.select)
      return delegate(db, subject).findUnique({ where, select: mergeSelects({ ...scalarSelect(subject), ...needs }, shape.select as Row) })
    const include = mergeSelects(needs, (shape.include ?? {}) as Row)
    const omit = secretOmit(subject)
    return delegate(db, subject).findUnique({ where, ...(Object.keys(include).length ? { include } : {}), ...(omit ? { omit } : {}) })
  }

  private async loadParent(db: Db, subject: Subject, data: Row): Promise<ParentRef | undefined> {
    for (const relation of dataModel().get(subject)!.fields.values()) {
      if (relation.kind !== 'relation' || !relation.foreignKey || !(relation.foreignKey in data)) continue
      const select = this.compiled.relationSelects.get(subject)?.[relation.name]?.select ?? {}
      const row = await delegate(db, relation.target).findUnique({
        where: { [primaryKey(relation.target)]: data[relation.foreignKey] },
        select: { [primaryKey(relation.target)]: true, ...select },
      })
      return { field: relation.foreignKey, subject: relation.target, relation: relation.name, row }
    }
    return undefined
  }
}

/** Keys a list fetches at most to page by key (≈1 µs of the server's CPU each). */
export const KEYED_LIST_LIMIT = 5000

function primaryKey(subject: string): string {
  return dataModel().get(subject)!.primaryKey
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
