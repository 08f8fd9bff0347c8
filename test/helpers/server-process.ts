import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'

// The server as the Docker image and `npm start` run it: `node dist/server/server.js`, a plain
// process with no TypeScript loader (or its sources through tsx), talked to over HTTP and
// stopped with signals.

export const SERVER_SCRIPT = join(import.meta.dirname, '..', '..', 'dist', 'server', 'server.js')
/** The server's sources, run through tsx: no build needed (`fromSource`). */
export const SERVER_SOURCE = join(import.meta.dirname, '..', '..', 'src', 'server.ts')

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface ServerProcess {
  base: string
  child: ChildProcess
  /** The JSON log lines written so far. */
  logs: Array<{ level: number; msg: string } & Record<string, unknown>>
  /** Resolves with the exit code (null if killed by a signal). */
  exited: Promise<number | null>
  /** Sends SIGTERM and waits for the exit; a process still alive after `killAfterMs` is killed. */
  stop(killAfterMs?: number): Promise<number | null>
}

export async function startServerProcess(options: {
  cwd: string
  env: Record<string, string>
  readyWithinMs?: number
  /** Run src/server.ts through tsx instead of the compiled server (`cwd` must then be the project root). */
  fromSource?: boolean
}): Promise<ServerProcess> {
  const port = options.env.PORT ?? String(await freePort())
  const child = spawn(process.execPath, options.fromSource ? ['--import', 'tsx', SERVER_SOURCE] : [SERVER_SCRIPT], {
    cwd: options.cwd,
    // NODE_OPTIONS emptied: the test runner's loaders must not help the compiled server.
    env: { ...process.env, NODE_OPTIONS: '', PORT: port, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const logs: ServerProcess['logs'] = []
  let partial = ''
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as ServerProcess['logs'][number])
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const stop = async (killAfterMs = 20_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      const kill = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
      child.kill('SIGTERM')
      await exited
      clearTimeout(kill)
    }
    return exited
  }
  const base = `http://127.0.0.1:${port}`
  const deadline = performance.now() + (options.readyWithinMs ?? 240_000)
  while (performance.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`${base}/ready`)).ok) return { base, child, logs, exited, stop }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop(0)
  throw new Error(`the server did not become ready (exit code ${child.exitCode}); logs: ${JSON.stringify(logs.slice(-5))}`)
}
