import { compileRules, PolicyValidationError } from '../../src/policy/validate.ts'

/** What validation says of `rules` given to `role`: its errors, or none. */
export function validationErrors(rules: object[], role = 'member') {
  try {
    compileRules({ [role]: rules } as never, 1)
    return []
  } catch (error) {
    if (!(error instanceof PolicyValidationError)) throw error
    return error.errors
  }
}
