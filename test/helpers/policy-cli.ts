import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import { createTestDatabase, type Engine } from './databases.ts'

// `npm run policy -- …` as an admin runs it: a process of its own, with its exit code and output.

const run = promisify(execFile)
const root = join(import.meta.dirname, '../..')

export async function policyCli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/policy.ts', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/** The environment that points the CLI at a database of its own: PostgreSQL, or an embedded one under `dir`. */
export async function cliDatabaseEnv(t: Test, engine: Engine, dir: string): Promise<Record<string, string>> {
  if (engine === 'pglite') return { DATA_DIR: join(dir, 'data'), DATABASE_URL: '' }
  const database = await createTestDatabase('postgres')
  // The CLI opens its own connections; the test only needs the database to exist and be dropped.
  await database.driver.close()
  t.teardown(() => database.drop())
  return { DATABASE_URL: database.url! }
}
