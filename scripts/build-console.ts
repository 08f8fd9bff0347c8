import { build } from 'esbuild'
import { mkdir, readFile, rm, rename, writeFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// Bundles the admin console (src/console) into dist/console: content-hashed script and
// stylesheet and an index.html that names them, each also brotli- and gzip-compressed (served
// as such to browsers that accept it). `npm start` and `npm test` run this first; it
// takes well under a second. The server maps the files it finds when it starts: restart it
// after a rebuild.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const CONSOLE_DIST = join(root, 'dist', 'console')

/** `development`: React's own checks and warnings on, unminified (the browser tests use it). */
export async function buildConsole(outDir = CONSOLE_DIST, { development = false } = {}): Promise<void> {
  const staging = `${outDir}.${process.pid}.tmp`
  await rm(staging, { recursive: true, force: true })
  const result = await build({
    entryPoints: { app: join(root, 'src', 'console', 'main.tsx') },
    bundle: true,
    minify: !development,
    sourcemap: 'linked',
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': development ? '"development"' : '"production"' },
    entryNames: '[name]-[hash]',
    outdir: join(staging, 'assets'),
    metafile: true,
    logLevel: 'warning',
  })
  const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file))
  const script = outputs.find((file) => file.endsWith('.js'))
  const style = outputs.find((file) => file.endsWith('.css'))
  if (!script || !style) throw new Error(`console build produced ${outputs.join(', ')}`)
  await writeFile(join(staging, 'index.html'), page(script, style))
  for (const file of [join('assets', script), join('assets', style), 'index.html']) await precompress(join(staging, file))
  await mkdir(dirname(outDir), { recursive: true })
  await rm(outDir, { recursive: true, force: true })
  await rename(staging, outDir)
}

async function precompress(path: string) {
  const content = await readFile(path)
  await writeFile(`${path}.br`, await promisify(brotliCompress)(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }))
  await writeFile(`${path}.gz`, await promisify(gzip)(content, { level: 9 }))
}

const page = (script: string, style: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Policy console · Projects & Tasks</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/assets/${style}">
<script type="module" src="/admin/assets/${script}"></script>
</head>
<body>
<noscript>The policy console needs JavaScript.</noscript>
<div id="root"></div>
</body>
</html>
`

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now()
  await buildConsole()
  console.log(`admin console built in ${Math.round(performance.now() - started)} ms → dist/console`)
}
