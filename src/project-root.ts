import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * The directory holding package.json, found upwards from this module. The server reads files
 * beside it at run time (prisma/, node_modules/, dist/console/) and this module runs from
 * src/ under tsx and from the bundle in dist/server/ after `npm run build`: a fixed number of
 * `..` would be right for only one of them.
 */
function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`)
  }
}

export const projectRoot = findProjectRoot(import.meta.dirname)
