import { spawn, type ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

// Shared by the HTTP benchmarks: bench tokens, and servers run as separate processes.

export const SECRET = 'bench-secret-bench-secret-bench-secret-0000'
const root = join(import.meta.dirname, '..')

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A bearer token for a seeded user (seeded users have no usable password). */
export function token(userId: number): string {
  const now = Math.floor(Date.now() / 1000)
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: String(userId), iat: now, exp: now + 86_400 })}`
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`
}

/** `--name <number>` from the command line, or `fallback`. */
export function option(name: string, fallback: number): number {
  const args = process.argv.slice(2)
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : fallback
}

/** Resolves once `url` answers 2xx (with `headers`); throws if `child` exits first. */
export async function waitUntilAnswering(url: string, child?: ChildProcess, headers: Record<string, string> = {}): Promise<void> {
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`)
    try {
      if ((await fetch(url, { headers })).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export interface Server {
  name: string
  script: string
  port: number
  child?: ChildProcess
}

/** Starts `server.script` on `databaseUrl` and waits until `probe` answers 2xx. */
export async function start(server: Server, databaseUrl: string, probe: string, auth: string): Promise<void> {
  server.child = spawn(process.execPath, ['--import', 'tsx', server.script], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      PORT: String(server.port),
      HOST: '127.0.0.1',
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${server.port}${probe}`, { headers: { authorization: auth } })).ok) return
    } catch {
      // not answering yet: try again
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${server.name} did not start`)
}

export function stop(server: Server): Promise<unknown> {
  const child = server.child
  if (!child || child.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })
}

/** Peak resident memory of a running server, from the kernel's high-water mark. */
export function peakRssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024
}
