import { build } from 'esbuild'
import { rename, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// Compiles the server and the admin CLIs into dist/server: plain JavaScript that `node` runs
// without a TypeScript loader (`npm start`, the Docker image). Our sources, the generated Prisma
// client included, become one module graph; packages stay imports from node_modules, so the
// WebAssembly and data files Prisma and PGlite load beside their own code are found as usual.
// Paths to prisma/ and dist/console are taken from the project root (src/project-root.ts),
// which this output finds as the sources do.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const SERVER_DIST = join(root, 'dist', 'server')

export const SERVER_ENTRIES = {
  server: join(root, 'src', 'server.ts'),
  policy: join(root, 'scripts', 'policy.ts'),
  db: join(root, 'scripts', 'db.ts'),
}

export async function buildServer(outDir = SERVER_DIST): Promise<void> {
  // Built beside and swapped in whole: a running server never sees half a build.
  const staging = `${outDir}.${process.pid}.tmp`
  await rm(staging, { recursive: true, force: true })
  await build({
    entryPoints: SERVER_ENTRIES,
    bundle: true,
    splitting: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    outdir: staging,
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    logLevel: 'warning',
  })
  await rm(outDir, { recursive: true, force: true })
  await rename(staging, outDir)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now()
  await buildServer()
  console.log(`server built in ${Math.round(performance.now() - started)} ms → dist/server`)
}
