/// <reference lib="dom" />
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import type { Test } from 'tap'

// The system's Chromium (Debian package `chromium`), never a downloaded browser; headless, with
// every background connection off (the test machines have no network) and a fresh profile.

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts', 'console')

/**
 * Why the browser tests cannot run on this machine, for tap's `skip`; false when they can. A
 * fresh checkout without Chromium reports them as skipped instead of failing; CI sets
 * REQUIRE_BROWSER=1 so that a missing browser fails there instead of being skipped unnoticed.
 */
export const browserUnavailable: string | false =
  existsSync(CHROMIUM) || process.env.REQUIRE_BROWSER === '1'
    ? false
    : `no Chromium at ${CHROMIUM}: install Debian's chromium package or set CHROMIUM_PATH to run the browser tests (REQUIRE_BROWSER=1 turns this skip into a failure)`

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface Browser {
  context: BrowserContext
  /** A new tab whose console errors, page errors and CSP violations are collected in `problems`. */
  page(viewport?: { width: number; height: number }): Promise<Page>
  problems: string[]
  screenshot(page: Page, name: string): Promise<void>
  /** WCAG 2.1 A/AA violations axe-core finds on the page as it is now, as "rule: element" lines. */
  accessibility(page: Page): Promise<string[]>
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export async function launchBrowser(t: Test): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM} and REQUIRE_BROWSER=1: install Debian's chromium package (.ci/run does) or set CHROMIUM_PATH.`,
    )
  }
  const profile = await mkdtemp(join(tmpdir(), 'console-e2e-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    headless: true,
    viewport: { width: 1280, height: 800 },
  })
  t.teardown(async () => {
    await context.close()
    await rm(profile, { recursive: true, force: true })
  })
  await mkdir(ARTIFACTS, { recursive: true })
  const problems: string[] = []
  return {
    context,
    problems,
    async page(viewport = { width: 1280, height: 800 }) {
      const page = await context.newPage()
      page.setDefaultTimeout(10_000)
      await page.setViewportSize(viewport)
      page.on('console', (message) => {
        // The browser logs every 4xx answer; refusals from the API are part of the flows tested.
        const refusedApiCall =
          /^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text()) &&
          message.location().url.includes('/api/')
        if ((message.type() === 'error' && !refusedApiCall) || /Content Security Policy/i.test(message.text()))
          problems.push(`console: ${message.text()}`)
      })
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
      return page
    },
    async accessibility(page) {
      // Evaluated through the DevTools protocol, which the page's CSP does not govern.
      await page.evaluate(axeSource)
      const violations = await page.evaluate(async () => {
        const axe = (
          window as unknown as {
            axe: {
              run(
                context: unknown,
                options: unknown,
              ): Promise<{ violations: Array<{ id: string; help: string; nodes: Array<{ target: string[] }> }> }>
            }
          }
        ).axe
        const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
        return result.violations.flatMap((v) => v.nodes.map((node) => `${v.id} (${v.help}): ${node.target.join(' ')}`))
      })
      return violations
    },
    async screenshot(page, name) {
      await page.evaluate(() => window.scrollTo(0, 0))
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
    },
  }
}
