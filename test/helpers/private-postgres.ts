import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// A throwaway PostgreSQL server of the test's own, which it may stop and start at will without
// touching the shared one. Uses the machine's PostgreSQL binaries; run as the postgres user when
// the test runs as root (the server refuses to run as root).

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const version = readdirSync(root).sort().at(-1)
  return version ? join(root, version, 'bin') : undefined
}

export const privatePostgresAvailable = Boolean(binDir()) && process.platform === 'linux'

export class PrivatePostgres {
  readonly dir: string
  readonly url: string

  constructor(readonly port: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'pg-private-'))
    chmodSync(this.dir, 0o777)
    this.url = `postgresql://postgres@127.0.0.1:${port}/postgres`
  }

  private run(tool: string, args: string[]): void {
    const command = join(binDir()!, tool)
    const asRoot = process.getuid?.() === 0
    execFileSync(asRoot ? 'runuser' : command, asRoot ? ['-u', 'postgres', '--', command, ...args] : args, { stdio: 'ignore' })
  }

  init(): this {
    this.run('initdb', ['-D', join(this.dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync'])
    return this
  }

  start(): void {
    this.run('pg_ctl', [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-o',
      `-p ${this.port} -k ${this.dir} -h 127.0.0.1 -F`,
      'start',
    ])
  }

  stop(): void {
    this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'])
  }

  destroy(): void {
    try {
      this.stop()
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}
