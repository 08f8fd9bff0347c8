// The words rules and decision-table rows are made of. Dependency-free so the admin console's
// bundle can use the same lists as the server.

/** CASL actions a rule may name; `manage` means every action. */
export const ACTIONS = ['manage', 'read', 'create', 'update', 'delete'] as const
export type Action = (typeof ACTIONS)[number]

/** Columns of the decision table (policies/decision-table.md). */
export const TABLE_ACTIONS = ['list', 'read', 'create', 'update', 'move', 'delete'] as const
/**
 * Whose object a row talks about: the caller's `own`, `other` (another member's, the caller not
 * in it), one `shared-editor` / `shared-viewer` with the caller, or `none` (no such object).
 * policies/decision-table.md says what each means per subject.
 */
export const TABLE_RESOURCES = ['own', 'other', 'none', 'shared-editor', 'shared-viewer'] as const

/** Subjects whose objects have ids: what the decision table and explain talk about. */
export const OBJECT_SUBJECTS = ['Project', 'Task', 'ProjectMember', 'User'] as const
export const TABLE_SUBJECTS = OBJECT_SUBJECTS

/** What a project member may be; the policy says what each may do. */
export const MEMBER_ROLES = ['viewer', 'editor'] as const
export type MemberRole = (typeof MEMBER_ROLES)[number]

/** Rule ids and role names (written so they are also valid HTML `pattern` attributes). */
export const RULE_ID_PATTERN = '^[A-Za-z0-9_.:\\-]{1,100}$'
export const ROLE_NAME_PATTERN = '^[a-z][a-z0-9_\\-]{0,49}$'

/** Kinds of audit events. */
export const AUDIT_KINDS = ['policy.activate', 'policy.rollback', 'request.denied'] as const
