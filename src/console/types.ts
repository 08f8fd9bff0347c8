import type { Static } from 'typebox'
import type { PolicyBody, ValidationReport, VersionDetail, VersionSummary } from '../routes/admin/policies-schema.ts'
import type { User as UserSchema } from '../routes/admin/users-schema.ts'
import type { DecisionRowData, RoleRule as Rule } from '../shared/rule-format.ts'
import type { AuditEvent as AuditEventSchema } from '../routes/admin/audit-schema.ts'
import type { UserAccess as UserAccessSchema } from '../routes/admin/user-access-schema.ts'
import type { ProjectAccess as ProjectAccessSchema } from '../routes/projects/access-schema.ts'
import type { Account as AccountSchema } from '../routes/auth/schema.ts'
import type { Explanation as ExplanationSchema } from '../routes/explain/schema.ts'
import type { page, ProblemSchema } from '../routes/schemas.ts'

// The console speaks the API's own types, taken from the server's schemas (types only: nothing
// of the server ends up in the bundle).

export type PolicyRule = Rule
export type TableRow = DecisionRowData
export type ActivePolicy = Static<typeof PolicyBody>
export type Report = Static<typeof ValidationReport>
export type TableResult = NonNullable<Report['table']>['rows'][number]
export type Flip = Report['flips'][number]
export type RoleImpact = NonNullable<Report['impact']>[number]
export type Version = Static<typeof VersionSummary>
export type VersionWithRules = Static<typeof VersionDetail>
export type User = Static<typeof UserSchema>

/** One page of a list; `items` typed by the caller. */
export type Page<T> = Omit<Static<ReturnType<typeof page>>, 'items'> & { items: T[] }
export type AuditEvent = Static<typeof AuditEventSchema>
export type Explanation = Static<typeof ExplanationSchema>
export type Account = Static<typeof AccountSchema>
export type ProjectAccess = Static<typeof ProjectAccessSchema>
export type Grants = ProjectAccess['roles'][number]['grants']
export type UserAccess = Static<typeof UserAccessSchema>
export type Reach = UserAccess['reach'][number]
export type Problem = Static<typeof ProblemSchema> & { failures?: TableResult[]; currentVersion?: number }
