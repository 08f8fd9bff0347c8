import { HttpProblem } from '../lib/problem.ts'
import type { AppAbility, CompiledPolicy } from './compile.ts'
import { dataModel } from './data-model.ts'
import { decideAccess, decideCreate, decideMove, decideOn, type Decision } from './decisions.ts'
import type { PolicyUser } from './placeholders.ts'

// The one API routes use to reach protected data: it loads what the rules need, asks the
// policy, and throws a problem when the answer is no. Routes never write a condition themselves.

type Row = Record<string, unknown>
/** A Prisma client or transaction client; delegates are looked up by model name. */
export type Db = object
type Delegate = {
  findUnique(args: { where: { id: number }; include?: object; select?: object }): Promise<Row | null>
}

/** What was asked when the answer was no, for the audit log. */
export interface DenialContext {
  action: string
  subject: string
  objectId?: number
}

export class DeniedError extends HttpProblem {
  constructor(
    readonly decision: Extract<Decision, { allowed: false }>,
    readonly context: DenialContext,
  ) {
    const slug = decision.status === 404 ? 'not-found' : decision.status === 400 ? 'invalid-reference' : 'forbidden'
    super(decision.status, slug, decision.detail, {
      ...(decision.status === 403 ? { ruleId: decision.ruleId } : {}),
      ...(decision.field ? { errors: [{ field: decision.field, message: decision.detail }] } : {}),
    })
  }
}

function enforce(decision: Decision, context: DenialContext): void {
  if (!decision.allowed) throw new DeniedError(decision, context)
}

function delegate(db: Db, subject: string): Delegate {
  return (db as Record<string, Delegate>)[subject[0]!.toLowerCase() + subject.slice(1)]!
}

export class Authorizer {
  constructor(
    readonly ability: AppAbility,
    readonly policy: CompiledPolicy,
    readonly user: PolicyUser,
  ) {}

  get policyVersion(): number {
    return this.policy.version
  }

  /** Function level: 403 unless some rule could allow `action` on `subject`. */
  assertAccess(action: string, subject: string): void {
    enforce(decideAccess(this.ability, action, subject), { action, subject })
  }

  /** The Prisma `where` of every row the caller may `action` (403 when no rule could ever allow it). */
  where<W = Row>(action: string, subject: string): W {
    this.assertAccess(action, subject)
    return this.policy.filterFor(this.ability, action, subject) as W
  }

  /** Loads one object and checks `action` on it: 404 when missing or unreadable, 403 when readable but not allowed. */
  async findOne<T = Row>(db: Db, subject: string, id: number, action: string, include?: Record<string, unknown>): Promise<T> {
    const row = await this.load(db, subject, id, include)
    enforce(decideOn(this.ability, action, subject, row), { action, subject, objectId: id })
    return row as T
  }

  /**
   * Loads one object for a change: `update` on it and on every changed field, and when a
   * foreign key changes, `update` on the object as it would be under its new parent.
   */
  async findForUpdate<T = Row>(db: Db, subject: string, id: number, changes: Row, include?: Record<string, unknown>): Promise<T> {
    const row = await this.load(db, subject, id, include)
    enforce(decideOn(this.ability, 'update', subject, row, Object.keys(changes)), { action: 'update', subject, objectId: id })
    const moved = Object.fromEntries(Object.entries(changes).filter(([key, value]) => isForeignKey(subject, key) && value !== row![key]))
    if (Object.keys(moved).length) {
      const parent = await this.loadParent(db, subject, moved)
      if (parent) enforce(decideMove(this.ability, subject, { ...row, ...changes }, parent), { action: 'update', subject, objectId: id })
    }
    return row as T
  }

  /**
   * Checks that `data` may be created, its parent (named by a foreign key in `data`) included.
   * `clientFields` are the fields the client chose (checked against field rules); the rest, such
   * as an owner taken from the token, are the server's.
   */
  async authorizeCreate(db: Db, subject: string, data: Row, clientFields: string[] = Object.keys(data)): Promise<void> {
    // A parent named by the server (a project's owner, from the token) exists and needs no lookup.
    const parent = await this.loadParent(db, subject, Object.fromEntries(clientFields.map((field) => [field, data[field]])))
    enforce(decideCreate(this.ability, subject, data, parent, clientFields), { action: 'create', subject })
  }

  private load(db: Db, subject: string, id: number, extra?: Record<string, unknown>): Promise<Row | null> {
    const include = mergeSelects(this.policy.relationSelects.get(subject) ?? {}, extra ?? {})
    return delegate(db, subject).findUnique({ where: { id }, ...(Object.keys(include).length ? { include } : {}) })
  }

  private async loadParent(db: Db, subject: string, data: Row) {
    for (const relation of dataModel().get(subject)!.fields.values()) {
      if (relation.kind !== 'relation' || !relation.foreignKey || !(relation.foreignKey in data)) continue
      const select = this.policy.relationSelects.get(subject)?.[relation.name]?.select ?? {}
      const row = await delegate(db, relation.target).findUnique({
        where: { id: data[relation.foreignKey] as number },
        select: { id: true, ...select },
      })
      return { field: relation.foreignKey, subject: relation.target, relation: relation.name, row }
    }
    return undefined
  }
}

function isForeignKey(subject: string, field: string): boolean {
  for (const relation of dataModel().get(subject)!.fields.values()) {
    if (relation.kind === 'relation' && relation.foreignKey === field) return true
  }
  return false
}

/** Deep merge of two Prisma include/select trees (the rules' needs and the response's). */
function mergeSelects(a: Record<string, any>, b: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = { ...a }
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key]
    out[key] = mine && typeof mine === 'object' && value && typeof value === 'object' ? mergeSelects(mine, value) : value
  }
  return out
}
