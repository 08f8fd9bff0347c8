import { createPrismaAbility } from '@casl/prisma/runtime'
import type { PrismaClient } from '../generated/prisma/client.ts'
import type { RawRule } from '../shared/rule-format.ts'
import type { AppAbility, CompiledRules } from './compiled-rules.ts'
import { dataModel, foreignKeyTo, readableScalars, type ModelInfo } from './data-model.ts'
import { delegate } from './delegates.ts'
import { decideCreate, decideOn, type Decision } from './decisions.ts'
import { placeholdersIn, type PolicyUser } from './placeholders.ts'

// Reverse queries: who may reach one project, and what one user may reach. Both are answered
// from the rules and the same decision functions requests use, never by asking every user.
//
// Who may reach a project. A role whose rules name no user decides the same for all its users:
// one decision. A role whose rules name the user (`${user.id}`, `${user.username}`) decides the
// same for every user whose id and username appear nowhere in the places the rules compare
// them with (`ownerId`, `members[*].userId`, …): for such a user every one of those
// comparisons (equals, in, not, notIn) comes out as for a made-up user whom no row names, and
// so does whatever wraps them (AND, OR, NOT, some, every, none, forbidding rules). One decision
// for that made-up user covers the role; the only users who can differ are those the loaded
// row names there: the candidates, each confirmed by the same decision functions with their
// own values. A comparison that cannot be turned round that way (lt/gt with the user's id, a
// placeholder inside a longer text) makes every user of the role a candidate ("scan"): slower,
// just as exact. `${user.role}` needs no turning round: within a role it is a constant.
//
// Two refinements keep a project with thousands of members cheap, each used only where it
// provably changes nothing:
// - pruning: a list (e.g. `members`) that the rules only ever test with `some` of a condition
//   that needs the user's own value in the row is cut, per candidate, to the rows that hold
//   the candidate's value: no other row can satisfy that condition for them;
// - one ability per role: when the places compared with the user's values are compared with
//   nothing else, a candidate's own values in the row are replaced by the made-up user's, and
//   the made-up user's ability decides. Candidates whose rows then read the same (every viewer
//   of a project, every editor) share one decision.

type Row = Record<string, unknown>
type Kind = 'id' | 'username'

/** A lone placeholder that stands for the user's identity, as an equality can turn it round. */
const USER_VALUES: Readonly<Record<string, Kind>> = { '${user.id}': 'id', '${user.username}': 'username' }
/** Operators under which "equals the user's value" is one row value per comparison. */
const EQUALITY = new Set(['equals', 'in', 'notIn', 'not'])
/** Same for every user of a role: the role is the one the ability is built for. */
const ROLE_PLACEHOLDER = 'user.role'
const LOGICAL = new Set(['AND', 'OR', 'NOT'])

export type Method = 'inverted' | 'scan'
/** The questions asked about a project: read, update and delete it, and create a task in it. */
export const PROJECT_QUESTIONS = ['read', 'update', 'delete', 'createTask'] as const
export type ProjectQuestion = (typeof PROJECT_QUESTIONS)[number]
/** What a user may do to the project, each with the id of the rule that allows it. */
export type Grants = Partial<Record<ProjectQuestion, string | null>>

export interface RoleAccess {
  role: string
  method: Method
  /** Users holding the role. */
  count: number
  /** What every user of the role may do, except those listed in `users`. */
  grants: Grants
  /** How many users of the role are listed in `users` (their grants differ from `grants`). */
  listed: number
}

export interface UserAccess {
  userId: number
  username: string
  role: string
  grants: Grants
}

export interface ProjectAccess {
  projectId: number
  policyVersion: number
  roles: RoleAccess[]
  users: { items: UserAccess[]; total: number; limit: number; offset: number }
}

export interface PageQuery {
  limit: number
  offset: number
}

/** Who may read, update or delete project `projectId`, or create tasks in it; `null` when it does not exist. */
export async function whoCanAccess(
  db: PrismaClient,
  compiled: CompiledRules,
  projectId: number,
  page: PageQuery,
): Promise<ProjectAccess | null> {
  const [project, holders] = await Promise.all([
    loadProject(db, compiled, projectId),
    db.user.groupBy({ by: ['role'], _count: { _all: true }, orderBy: { role: 'asc' } }),
  ])
  if (!project) return null
  const questions = projectQuestions(project)
  const counts = new Map(holders.map((row) => [row.role, row._count._all]))
  const roles = [...new Set([...Object.keys(compiled.document), ...counts.keys()])]
  const plans = roles.map((role) => planRole(compiled, role, questions))

  // Values no candidate can hold: the made-up user's.
  const ids = new Set<unknown>()
  const usernames = new Set<unknown>()
  for (const plan of plans) {
    for (const asker of plan.askers) {
      for (const [path, kind] of asker.analysis.atoms)
        for (const value of valuesAt(asker.question.object, path)) (kind === 'id' ? ids : usernames).add(value)
    }
  }
  let nobodyId = -1
  while (ids.has(nobodyId)) nobodyId--
  let nobodyName = '\u0000'
  while (usernames.has(nobodyName)) nobodyName += '\u0000'

  const inverted = plans.filter((plan) => plan.method === 'inverted' && plan.askers.some((asker) => asker.analysis.atoms.size > 0))
  const scanned = plans.filter((plan) => plan.method === 'scan')
  const numericIds = [...ids].filter((id): id is number => typeof id === 'number')
  const textNames = [...usernames].filter((name): name is string => typeof name === 'string')
  const [candidates, everyone] = await Promise.all([
    inverted.length && (numericIds.length || textNames.length)
      ? db.user.findMany({
          where: { role: { in: inverted.map((plan) => plan.role) }, OR: [{ id: { in: numericIds } }, { username: { in: textNames } }] },
          select: { id: true, username: true, role: true },
          orderBy: { id: 'asc' },
        })
      : [],
    scanned.length
      ? db.user.findMany({
          where: { role: { in: scanned.map((plan) => plan.role) } },
          select: { id: true, username: true, role: true },
          orderBy: { id: 'asc' },
        })
      : [],
  ])

  const entries: RoleAccess[] = []
  const listed: UserAccess[] = []
  for (const plan of plans) {
    for (const asker of plan.askers) asker.prepare(compiled, { id: nobodyId, username: nobodyName, role: plan.role })
    const users = (plan.method === 'scan' ? everyone : candidates).filter((user) => user.role === plan.role)
    const granted = users.map((user) => ({ user, grants: merge(plan.askers.map((asker) => asker.grantsFor(compiled, user, plan.method))) }))
    // Inverted: the made-up user stands for everyone the rows do not name. Scanned: the grants
    // most users of the role share, so that only the others need listing.
    const common =
      plan.method === 'inverted' ? merge(plan.askers.map((asker) => asker.grantsForNobody())) : mostCommon(granted.map((g) => g.grants))
    const differing = granted.filter((g) => !sameGrants(g.grants, common))
    for (const { user, grants } of differing) listed.push({ userId: user.id, username: user.username, role: user.role, grants })
    const count = plan.method === 'scan' ? users.length : (counts.get(plan.role) ?? 0)
    entries.push({ role: plan.role, method: plan.method, count, grants: common, listed: differing.length })
  }
  listed.sort((a, b) => a.userId - b.userId)
  return {
    projectId,
    policyVersion: compiled.version,
    roles: entries,
    users: { items: listed.slice(page.offset, page.offset + page.limit), total: listed.length, limit: page.limit, offset: page.offset },
  }
}

/** The project with every field and related row the rules of Project, and of Task through its project, read. */
async function loadProject(db: PrismaClient, compiled: CompiledRules, projectId: number): Promise<Row | null> {
  const link = foreignKeyTo('Task', 'Project')
  const own = compiled.relationSelects.get('Project') ?? {}
  const throughTasks = compiled.relationSelects.get('Task')?.[link.name]?.select ?? {}
  const scalars = Object.fromEntries(readableScalars(dataModel().get('Project')!).map((field) => [field.name, true]))
  const select = mergeSelects(mergeSelects(scalars, own), throughTasks)
  return db.project.findUnique({ where: { id: projectId }, select: select as never })
}

interface Question {
  subject: string
  /** The object decided on, as loaded: the project, or a task to be created in it. */
  object: Row
  /** The decisions about `row` (the object, maybe pruned and with the user's values replaced). */
  ask(ability: AppAbility, row: Row): Partial<Record<ProjectQuestion, Decision>>
}

function projectQuestions(project: Row): Question[] {
  const link = foreignKeyTo('Task', 'Project')
  return [
    {
      subject: 'Project',
      object: project,
      ask: (ability, row) => ({
        read: decideOn(ability, 'read', 'Project', row),
        update: decideOn(ability, 'update', 'Project', row),
        delete: decideOn(ability, 'delete', 'Project', row),
      }),
    },
    {
      // As `POST /api/tasks` decides: the task names the project, the rules see it through the relation.
      subject: 'Task',
      object: { [link.foreignKey]: project.id, [link.name]: project },
      // A view leaves out what the rules do not read: then any value decides the same.
      ask: (ability, row) => ({
        createTask: decideCreate(
          ability,
          'Task',
          { [link.foreignKey]: link.foreignKey in row ? row[link.foreignKey] : project.id },
          {
            field: link.foreignKey,
            subject: 'Project',
            relation: link.name,
            row: (row[link.name] as Row | undefined) ?? {},
          },
        ),
      }),
    },
  ]
}

interface RolePlan {
  role: string
  method: Method
  askers: Asker[]
}

function planRole(compiled: CompiledRules, role: string, questions: Question[]): RolePlan {
  const rules = Object.hasOwn(compiled.document, role) ? compiled.document[role]! : []
  const askers = questions.map((question) => new Asker(question, analyse(rules, question.subject)))
  const method = askers.some((asker) => asker.analysis.uninvertible) ? 'scan' : 'inverted'
  return { role, method, askers }
}

/** What the rules of a role on one subject compare with the user, and where. */
interface Analysis {
  /** Every data path the conditions read: nothing else of a row can change a decision. */
  read: Set<string>
  /** Data paths (`project.members.userId`) compared with the user's id or username. */
  atoms: Map<string, Kind>
  /** Paths compared with anything else too (a constant, `${user.role}`). */
  others: Set<string>
  /** To-many relation paths, and whether every condition on them is `some` of a row that must hold the user's value. */
  lists: Map<string, boolean>
  /** Why some rule's use of the user cannot be turned round, if one cannot. */
  uninvertible?: string
}

function analyse(rules: readonly RawRule[], subject: string): Analysis {
  const analysis: Analysis = { read: new Set(), atoms: new Map(), others: new Set(), lists: new Map() }
  const info = dataModel().get(subject)
  if (!info) return analysis
  for (const rule of rules) {
    const subjects = Array.isArray(rule.subject) ? rule.subject : [rule.subject]
    if (rule.conditions && subjects.includes(subject)) walk(rule.conditions, info, '', analysis)
  }
  return analysis
}

function walk(where: unknown, info: ModelInfo, path: string, analysis: Analysis): void {
  if (!isPlainObject(where)) return
  for (const [key, value] of Object.entries(where)) {
    if (LOGICAL.has(key)) {
      for (const part of Array.isArray(value) ? value : [value]) walk(part, info, path, analysis)
      continue
    }
    const field = info.fields.get(key)
    if (!field) continue
    const at = path ? `${path}.${key}` : key
    analysis.read.add(at)
    if (field.kind === 'scalar') {
      compare(value, at, analysis)
      continue
    }
    const target = dataModel().get(field.target)!
    for (const [op, nested] of Object.entries(isPlainObject(value) ? value : {})) {
      if (field.many) analysis.lists.set(at, (analysis.lists.get(at) ?? true) && op === 'some' && needsUser(nested, target))
      walk(nested, target, at, analysis)
    }
  }
}

/** Records what the scalar at `at` is compared with. */
function compare(value: unknown, at: string, analysis: Analysis): void {
  if (!isPlainObject(value)) {
    operand(value, 'equals', at, analysis)
    return
  }
  for (const [op, item] of Object.entries(value)) {
    if (op === 'mode') continue
    if (op === 'not' && isPlainObject(item)) compare(item, at, analysis)
    else if ((op === 'in' || op === 'notIn') && Array.isArray(item)) {
      // Beside the user's value, a constant reads the same once that value is replaced: a row
      // holding the user's value is in the list either way.
      const withUser = item.some(isUserValue)
      for (const one of item) operand(one, op, at, analysis, withUser)
    } else operand(item, op, at, analysis)
  }
}

/** `besideUser`: one of a list that also holds the user's value. */
function operand(value: unknown, op: string, at: string, analysis: Analysis, besideUser = false): void {
  const kind = typeof value === 'string' ? USER_VALUES[value] : undefined
  if (kind && EQUALITY.has(op)) {
    analysis.atoms.set(at, kind)
    return
  }
  if (typeof value === 'string' && placeholdersIn(value).some((name) => name !== ROLE_PLACEHOLDER)) {
    analysis.uninvertible ??= kind ? `"${op}" compares ${at} with ${value}` : `${at} is compared with ${value} inside a longer text`
    return
  }
  if (!besideUser) analysis.others.add(at)
}

/** Whether `where` can only hold for a row (or the rows under it) that holds the user's id or username. */
function needsUser(where: unknown, info: ModelInfo): boolean {
  if (!isPlainObject(where)) return false
  return Object.entries(where).some(([key, value]) => {
    if (key === 'AND') return (Array.isArray(value) ? value : [value]).some((part) => needsUser(part, info))
    if (key === 'OR') return Array.isArray(value) && value.length > 0 && value.every((part) => needsUser(part, info))
    if (key === 'NOT') return false
    const field = info.fields.get(key)
    if (!field) return false
    if (field.kind === 'relation') {
      const target = dataModel().get(field.target)!
      const holds = field.many ? 'some' : 'is'
      return isPlainObject(value) && Object.entries(value).some(([op, nested]) => op === holds && needsUser(nested, target))
    }
    if (!isPlainObject(value)) return isUserValue(value)
    return Object.entries(value).some(([op, item]) =>
      op === 'equals' ? isUserValue(item) : op === 'in' ? Array.isArray(item) && item.length > 0 && item.every(isUserValue) : false,
    )
  })
}

const isUserValue = (value: unknown) => typeof value === 'string' && Object.hasOwn(USER_VALUES, value)

interface Person {
  id: number
  username: string
}

/** One question for one role: the analysis of its rules, and the decisions it leads to. */
class Asker {
  /** Per prunable list path: the rows of those lists by the user values they hold. */
  private readonly indexes = new Map<string, Map<string, Set<Row>>>()
  /** Where each indexed row sits: its list and its position there. */
  private readonly places = new Map<Row, { list: unknown[]; at: number }>()
  /** Whether the made-up user's ability may decide for candidates (their values replaced). */
  readonly canonical: boolean
  private nobody!: PolicyUser & { ability: AppAbility }
  private readonly byView = new Map<string, Grants>()

  constructor(
    readonly question: Question,
    readonly analysis: Analysis,
  ) {
    this.canonical = [...analysis.atoms.keys()].every((path) => !analysis.others.has(path))
    for (const [path, prunable] of analysis.lists) {
      if (!prunable) continue
      const index = new Map<string, Set<Row>>()
      for (const list of listsAt(question.object, path)) list.forEach((row, at) => this.places.set(row as Row, { list, at }))
      for (const row of valuesAt(question.object, path) as Row[]) {
        for (const [atom, kind] of analysis.atoms) {
          if (!atom.startsWith(`${path}.`)) continue
          for (const value of valuesAt(row, atom.slice(path.length + 1))) {
            const key = `${kind}:${String(value)}`
            let rows = index.get(key)
            if (!rows) index.set(key, (rows = new Set()))
            rows.add(row)
          }
        }
      }
      this.indexes.set(path, index)
    }
  }

  prepare(compiled: CompiledRules, nobody: PolicyUser): void {
    this.nobody = { ...nobody, ability: compiled.abilityFor(nobody) }
    this.byView.clear()
  }

  /** For every user of the role whose values the row does not hold. */
  grantsForNobody(): Grants {
    return this.decide(this.nobody.ability, this.view(this.question.object, '', null))
  }

  grantsFor(compiled: CompiledRules, user: PolicyUser, method: Method): Grants {
    // Scanned: the whole row, the user's own ability, as a request would decide.
    if (method === 'scan') return this.decide(compiled.abilityFor(user), this.question.object)
    const row = this.view(this.question.object, '', user)
    if (!this.canonical) return this.decide(compiled.abilityFor(user), row)
    const key = JSON.stringify(row)
    let grants = this.byView.get(key)
    if (!grants) this.byView.set(key, (grants = this.decide(this.nobody.ability, row)))
    return grants
  }

  private decide(ability: AppAbility, row: Row): Grants {
    const grants: Grants = {}
    for (const [question, decision] of Object.entries(this.question.ask(ability, row))) {
      if (decision.allowed) grants[question as ProjectQuestion] = decision.ruleId
    }
    return grants
  }

  /** The rows of `list` that hold the user's id or username, in their order (none for nobody). */
  private holding(index: Map<string, Set<Row>>, list: unknown[], user: Person | null): Row[] {
    if (!user) return []
    const rows = new Set([...(index.get(`id:${user.id}`) ?? []), ...(index.get(`username:${user.username}`) ?? [])])
    return [...rows].filter((row) => this.places.get(row)!.list === list).sort((a, b) => this.places.get(a)!.at - this.places.get(b)!.at)
  }

  /**
   * A copy of `node` as the decisions see it for `user` (`null`: somebody the rows do not name):
   * prunable lists cut to the rows holding the user's values and, when canonical, those values
   * replaced by the made-up user's.
   */
  private view(node: Row, path: string, user: Person | null): Row {
    const out: Row = {}
    for (const [key, value] of Object.entries(node)) {
      const at = path ? `${path}.${key}` : key
      // What these rules never read cannot change their decisions (the row is loaded for every role's rules).
      if (!this.analysis.read.has(at)) continue
      if (Array.isArray(value)) {
        const index = this.indexes.get(at)
        const rows = index ? this.holding(index, value, user) : (value as Row[])
        out[key] = rows.map((row) => this.view(row, at, user))
      } else if (isPlainObject(value)) {
        out[key] = this.view(value, at, user)
      } else if (user && this.canonical) {
        const kind = this.analysis.atoms.get(at)
        out[key] =
          kind === 'id' && value === user.id
            ? this.nobody.id
            : kind === 'username' && value === user.username
              ? this.nobody.username
              : value
      } else {
        out[key] = value
      }
    }
    return out
  }
}

/** The lists at a dotted path that ends on a to-many relation. */
function listsAt(node: unknown, path: string): unknown[][] {
  const segments = path.split('.')
  const parents = valuesAt(node, segments.slice(0, -1).join('.'))
  return parents.map((parent) => (parent as Row)[segments.at(-1)!]).filter((list): list is unknown[] => Array.isArray(list))
}

/** Every value at a dotted path, through to-one objects and to-many lists. */
function valuesAt(node: unknown, path: string): unknown[] {
  const out: unknown[] = []
  const visit = (value: unknown, segments: string[]) => {
    if (value === null || value === undefined) return
    if (Array.isArray(value)) {
      for (const item of value) visit(item, segments)
      return
    }
    if (segments.length === 0) {
      out.push(value)
      return
    }
    if (typeof value === 'object') visit((value as Row)[segments[0]!], segments.slice(1))
  }
  visit(node, path ? path.split('.') : [])
  return out
}

function merge(parts: Grants[]): Grants {
  return Object.assign({}, ...parts) as Grants
}

function sameGrants(a: Grants, b: Grants): boolean {
  return PROJECT_QUESTIONS.every((question) => a[question] === b[question])
}

function grantsKey(grants: Grants): string {
  return JSON.stringify(PROJECT_QUESTIONS.map((question) => grants[question] ?? null))
}

/** The grants most users share (the first user's among equals); none for nobody. */
function mostCommon(all: Grants[]): Grants {
  const tally = new Map<string, { grants: Grants; count: number }>()
  for (const grants of all) {
    const key = grantsKey(grants)
    const entry = tally.get(key)
    if (entry) entry.count++
    else tally.set(key, { grants, count: 1 })
  }
  let best: { grants: Grants; count: number } | undefined
  for (const entry of tally.values()) if (!best || entry.count > best.count) best = entry
  return best?.grants ?? {}
}

// ---------------------------------------------------------------------------------------------
// What one user may reach.

/** The subjects whose objects a user may reach, and the actions counted on them. */
export const REACH_SUBJECTS = ['Project', 'Task', 'ProjectMember', 'User'] as const
export const REACH_ACTIONS = ['read', 'update', 'delete'] as const

export interface Reach {
  subject: (typeof REACH_SUBJECTS)[number]
  action: (typeof REACH_ACTIONS)[number]
  /** Objects the user may `action`: readable, and allowed (what `decideOn` allows). */
  count: number
  /** Their ids, ordered, from `offset`, at most `limit`. */
  ids: number[]
  /** The rules that allow it, each with how many of those objects it decides (in the order CASL tries them). */
  rules: Array<{ ruleId: string | null; count: number }>
}

/**
 * For each subject and action, how many objects `user` may reach and which, by SQL from the
 * policy's filters. `within`: the caller's ability; objects it may not read are left out, and so
 * are subjects it may read nothing of.
 */
export async function whatCanUserDo(
  db: PrismaClient,
  compiled: CompiledRules,
  user: PolicyUser,
  page: PageQuery,
  within?: AppAbility,
): Promise<Reach[]> {
  const ability = compiled.abilityFor(user)
  const subjects = REACH_SUBJECTS.filter((subject) => !within || within.can('read', subject))
  const all = subjects.flatMap((subject) =>
    REACH_ACTIONS.map(async (action): Promise<Reach> => {
      const none: Reach = { subject, action, count: 0, ids: [], rules: [] }
      // decideOn refuses every object when no rule could allow reading the subject at all.
      if (!ability.can('read', subject) || !ability.can(action, subject)) return none
      const key = dataModel().get(subject)!.primaryKey
      const table = delegate(db, subject)
      const scope = [
        ...(within ? [compiled.filterFor(within, 'read', subject)] : []),
        ...(action === 'read' ? [] : [compiled.filterFor(ability, 'read', subject)]),
      ]
      const where = { AND: [...scope, compiled.filterFor(ability, action, subject)] }
      const [count, rows, rules] = await Promise.all([
        table.count({ where }),
        table.findMany({ where, select: { [key]: true }, orderBy: { [key]: 'asc' }, skip: page.offset, take: page.limit }),
        decidingRules(db, compiled, ability, action, subject, scope),
      ])
      return { subject, action, count, ids: rows.map((row) => row[key] as number), rules }
    }),
  )
  return Promise.all(all)
}

/**
 * The allowing rules for `action` on `subject` and how many objects each decides: CASL takes the
 * first rule (by priority) whose conditions match, so a rule decides the objects it matches and
 * no rule before it does.
 */
async function decidingRules(
  db: PrismaClient,
  compiled: CompiledRules,
  ability: AppAbility,
  action: string,
  subject: string,
  scope: ReadonlyArray<Readonly<Row>>,
): Promise<Reach['rules']> {
  const table = delegate(db, subject)
  const before: Array<Readonly<Row>> = []
  let exhausted = false
  const counted: Array<Promise<{ ruleId: string | null; count: number }>> = []
  for (const rule of ability.rulesFor(action, subject)) {
    const ruleId = (rule.origin as { id?: string } | undefined)?.id ?? null
    const alone = createPrismaAbility<AppAbility>([
      { action, subject, ...(rule.conditions ? { conditions: rule.conditions } : {}) },
    ] as never)
    const matches = compiled.filterFor(alone, action, subject)
    if (!rule.inverted) {
      const where = { AND: [...scope, matches, ...before.map((earlier) => ({ NOT: earlier }))] }
      counted.push(exhausted ? Promise.resolve({ ruleId, count: 0 }) : table.count({ where }).then((count) => ({ ruleId, count })))
    }
    before.push(matches)
    // A rule without conditions matches every object: no later rule decides any.
    if (!rule.conditions) exhausted = true
  }
  return Promise.all(counted)
}

function mergeSelects(a: Row, b: Row): Row {
  const out: Row = { ...a }
  for (const [key, value] of Object.entries(b)) {
    const mine = out[key]
    out[key] = isPlainObject(mine) && isPlainObject(value) ? mergeSelects(mine, value) : value
  }
  return out
}

function isPlainObject(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}
