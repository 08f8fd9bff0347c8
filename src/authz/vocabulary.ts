// The words rules and decision-table rows are made of. Dependency-free so the admin console's
// bundle can use the same lists as the server.

/** CASL actions a rule may name; `manage` means every action. */
export const ACTIONS = ['manage', 'read', 'create', 'update', 'delete'] as const
export type Action = (typeof ACTIONS)[number]

/** Columns of the decision table (policies/decision-table.md). */
export const TABLE_ACTIONS = ['list', 'read', 'create', 'update', 'move', 'delete'] as const
export const TABLE_SUBJECTS = ['Project', 'Task', 'User'] as const
export const TABLE_RESOURCES = ['own', 'other', 'none'] as const
