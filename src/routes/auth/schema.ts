import { Type, type Static } from 'typebox'

export const Credentials = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 150, pattern: '^[\\w.@+-]+$', description: 'Letters, digits and @.+-_' }),
    password: Type.String({ minLength: 8, maxLength: 1024 }),
  },
  { additionalProperties: false },
)
export type Credentials = Static<typeof Credentials>

export const Account = Type.Object({ id: Type.Integer(), username: Type.String(), role: Type.String() })

export const Token = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the token expires' }),
})
