import { subject as tag } from '@casl/ability'
import type { AppAbility } from './compiled-rules.ts'
import { dataModel } from './data-model.ts'

// Pure decisions over objects already loaded: the one place that turns CASL answers into
// HTTP outcomes. The routes (through the authorizer) and the decision-table runner share it,
// so the table tests exactly what the API does.

export type Decision =
  | { allowed: true; ruleId: string | null }
  | {
      allowed: false
      status: 400 | 403 | 404
      detail: string
      ruleId: string | null
      field?: string
      /** A 404 for an object that exists but may not be read: worth auditing, never told. */
      hidden?: boolean
    }

type Row = Record<string, unknown>

/** The rule that decided, for allows and denials alike (`null`: no rule matched, so default deny). */
function decidingRuleId(ability: AppAbility, action: string, object: unknown, field?: string): string | null {
  const rule = ability.relevantRuleFor(action, object as never, field)
  return (rule?.origin as { id?: string } | undefined)?.id ?? null
}

const allow = (ability: AppAbility, action: string, object: unknown): Decision => ({
  allowed: true,
  ruleId: decidingRuleId(ability, action, object),
})

/** `PolicyVersion` → `policy version`. */
function noun(subject: string): string {
  return subject.replace(/(?<=[a-z])(?=[A-Z])/g, ' ').toLowerCase()
}

function plural(subject: string): string {
  return `${noun(subject)}s`
}

function notFound(subject: string, hidden = false): Decision {
  return {
    allowed: false,
    status: 404,
    detail: `${noun(subject).replace(/^./, (c) => c.toUpperCase())} not found.`,
    ruleId: null,
    ...(hidden ? { hidden } : {}),
  }
}

/** A refusal; a rule that forbids explicitly and says why gives its own reason as the detail. */
function forbidden(ability: AppAbility, action: string, object: unknown, detail: string, field?: string): Decision {
  const rule = ability.relevantRuleFor(action, object as never, field)
  const ruleId = (rule?.origin as { id?: string } | undefined)?.id ?? null
  return { allowed: false, status: 403, detail: rule?.inverted && rule.reason ? rule.reason : detail, ruleId, field }
}

/** Function level: may the caller do `action` on some `subject` at all (any rule, any conditions)? */
export function decideAccess(ability: AppAbility, action: string, subject: string): Decision {
  if (ability.can(action, subject)) return { allowed: true, ruleId: decidingRuleId(ability, action, subject) }
  return forbidden(ability, action, subject, `You cannot ${action} ${plural(subject)}.`)
}

/** One object, by id: unreadable is answered exactly like nonexistent. */
export function decideOn(ability: AppAbility, action: string, subject: string, row: Row | null, fields: string[] = []): Decision {
  // A caller who may read no object of this kind at all is refused the same way for every id.
  const access = decideAccess(ability, 'read', subject)
  if (!access.allowed) return access
  if (!row) return notFound(subject)
  const object = tag(subject, row)
  if (!ability.can('read', object)) return notFound(subject, true)
  if (action === 'read') return allow(ability, action, object)
  if (!ability.can(action, object)) return forbidden(ability, action, object, `You cannot ${action} this ${noun(subject)}.`)
  for (const field of fields) {
    if (!ability.can(action, object, field)) {
      return forbidden(ability, action, object, `You cannot ${action} the field "${field}" of this ${noun(subject)}.`, field)
    }
  }
  return allow(ability, action, object)
}

export interface ParentRef {
  /** The foreign key in the request body, e.g. `projectId`. */
  field: string
  /** The parent model, e.g. `Project`. */
  subject: string
  /** The relation that reaches the parent, as the rules name it, e.g. `project`. */
  relation: string
  /** The parent row with the fields the rules read; `null` when it does not exist. */
  row: Row | null
}

/** A new object, with its parent (if any) attached the way the rules read it; `fields` are those the client set. */
export function decideCreate(
  ability: AppAbility,
  subject: string,
  data: Row,
  parent?: ParentRef,
  fields: string[] = Object.keys(data),
): Decision {
  if (parent && !parent.row) return parentMissing(parent)
  const candidate = tag(subject, { ...nothingRelated(subject), ...data, ...(parent ? { [parent.relation]: parent.row } : {}) })
  const detail = parent ? `You cannot create ${plural(subject)} for this ${noun(parent.subject)}.` : `You cannot create ${plural(subject)}.`
  if (!ability.can('create', candidate)) return forbidden(ability, 'create', candidate, detail)
  for (const field of fields) {
    if (!ability.can('create', candidate, field))
      return forbidden(ability, 'create', candidate, `You cannot set the field "${field}".`, field)
  }
  return allow(ability, 'create', candidate)
}

/**
 * A new object's to-many relations, empty: nothing is related to it yet. Left out, CASL's
 * in-memory check would read a missing list as false under `every` (SQL: vacuously true), so a
 * rule such as `members: { every: … }` would refuse what SQL allows of the row once it exists,
 * and `NOT: { members: { every: … } }` allow what SQL refuses.
 */
function nothingRelated(subject: string): Row {
  const info = dataModel().get(subject)
  if (!info) return {}
  return Object.fromEntries(
    [...info.fields.values()].flatMap((field) => (field.kind === 'relation' && field.many ? [[field.name, []]] : [])),
  )
}

/**
 * A change of parent: the object must be updatable where it is (checked by `decideOn`) and
 * where it goes, so nobody can move their object into somebody else's parent.
 */
export function decideMove(ability: AppAbility, subject: string, after: Row, parent: ParentRef): Decision {
  if (!parent.row) return parentMissing(parent)
  const candidate = tag(subject, { ...after, [parent.relation]: parent.row })
  if (ability.can('update', candidate)) return allow(ability, 'update', candidate)
  return forbidden(ability, 'update', candidate, `You cannot move ${plural(subject)} into this ${noun(parent.subject)}.`)
}

function parentMissing(parent: ParentRef): Decision {
  return {
    allowed: false,
    status: 400,
    detail: `${parent.field}: no ${noun(parent.subject)} with this id exists.`,
    ruleId: null,
    field: parent.field,
  }
}

/** Why `action` on `row` is allowed or denied, naming the deciding rule. */
export function explain(
  ability: AppAbility,
  action: string,
  subject: string,
  row: Row,
): { allowed: boolean; ruleId: string | null; reason: string } {
  const object = tag(subject, row)
  const allowed = ability.can(action, object)
  const rule = ability.relevantRuleFor(action, object)
  const ruleId = (rule?.origin as { id?: string } | undefined)?.id ?? null
  if (!rule) return { allowed, ruleId: null, reason: `No rule allows ${action} on this ${noun(subject)}: denied by default.` }
  const reason = rule.reason ?? (allowed ? `Allowed by rule "${ruleId}".` : `Denied by rule "${ruleId}".`)
  return { allowed, ruleId, reason }
}
