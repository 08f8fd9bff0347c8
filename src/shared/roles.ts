/** The roles a user can hold. Which role may do what is data, in policies/. */
export const ROLES = ['member', 'auditor', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** The role every new account gets; a request body can never choose another. */
export const DEFAULT_ROLE: Role = 'member'
