import { Type, type Static } from 'typebox'
import { Credentials } from '../auth/schema.ts'

export const PasswordChange = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 1024 }),
    newPassword: Credentials.properties.password,
  },
  { additionalProperties: false },
)
export type PasswordChange = Static<typeof PasswordChange>
