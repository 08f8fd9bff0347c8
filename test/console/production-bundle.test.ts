import { join } from 'node:path'
import t from 'tap'
import { DECISION_TABLE_FILE, readDecisionTableFile } from '../../src/policy/files.ts'
import { PASSWORD, startApp } from '../helpers/app.ts'
import { browserUnavailable, launchBrowser } from '../helpers/browser.ts'
import { engines } from '../helpers/databases.ts'

// The bundle users get (dist/console, minified, built by `npm test` itself) works in the
// browser; console.test.ts goes through every flow on React's development build.

const rows = readDecisionTableFile(join(import.meta.dirname, '../../policies', DECISION_TABLE_FILE)).length

t.test('the production bundle signs in and shows the policy', { skip: browserUnavailable }, async (t) => {
  const api = await startApp(t, engines[0]!)
  const base = await api.app.listen({ host: '127.0.0.1', port: 0 })
  const admin = await api.user('admin', 'admin')
  const browser = await launchBrowser(t)
  const page = await browser.page()

  const html = await (await fetch(`${base}/admin/`)).text()
  t.match(html, /<script type="module" src="\/admin\/assets\/app-[A-Z0-9]+\.js">/, 'dist/console is built (npm test builds it first)')
  await page.goto(`${base}/admin/`)
  await page.getByLabel('Username').fill(admin.username)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByTestId('check-status').filter({ hasText: 'Valid, table passes' }).waitFor()
  const rules = (await api.request({ url: '/api/admin/policies', as: admin })).json().rules as unknown[]
  t.equal(await page.locator('article.rule').count(), rules.length, 'every rule of the active version')
  await page.getByRole('link', { name: 'Review & activate' }).first().click()
  await t.resolves(
    page
      .locator('details.table-results summary')
      .filter({ hasText: `${rows} of ${rows} rows pass` })
      .waitFor(),
    'the decision table, judged',
  )
  t.same(browser.problems, [], 'no script error, failed asset or CSP violation')
})
