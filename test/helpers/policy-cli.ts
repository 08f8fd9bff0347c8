import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'

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
