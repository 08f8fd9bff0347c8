import { Type, type Static } from 'typebox'

export const Credentials = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 150, pattern: '^[\\w.@+-]+$', description: 'Letters, digits and @.+-_' }),
    password: Type.String({ minLength: 8, maxLength: 1024 }),
  },
  { $id: 'Credentials', additionalProperties: false, examples: [{ username: 'alice', password: 'alice-secret' }] },
)
export type Credentials = Static<typeof Credentials>

export const Account = Type.Object(
  { id: Type.Integer(), username: Type.String(), role: Type.String() },
  { $id: 'Account', examples: [{ id: 1, username: 'alice', role: 'member' }] },
)

export const Token = Type.Object(
  {
    accessToken: Type.String(),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'Seconds until the token expires' }),
  },
  {
    $id: 'Token',
    examples: [{ accessToken: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.signature', tokenType: 'Bearer', expiresIn: 3600 }],
  },
)
