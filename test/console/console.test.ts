/// <reference lib="dom" />
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Locator, Page } from 'playwright-core'
import { PASSWORD, startApp, type Account } from '../helpers/app.ts'
import { buildConsole } from '../../scripts/build-console.ts'
import { browserUnavailable, launchBrowser } from '../helpers/browser.ts'
import { engines } from '../helpers/databases.ts'

// The admin console end to end, in a real headless Chromium against a real server and database:
// every check of what the console shows is compared with what the API says and enforces.

const engine = engines.at(-1)!

async function signIn(page: Page, base: string, who: Account) {
  await page.goto(`${base}/admin/`)
  await page.getByLabel('Username').fill(who.username)
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

const checkStatus = (page: Page) => page.getByTestId('check-status')

t.test(`admin console (${engine})`, { skip: browserUnavailable }, async (t) => {
  // React's development build: its warnings (keys, controlled inputs, …) fail the run like any other console error.
  const consoleDir = await mkdtemp(join(tmpdir(), 'console-dev-'))
  t.teardown(() => rm(consoleDir, { recursive: true, force: true }))
  await buildConsole(consoleDir, { development: true })
  const api = await startApp(t, engine, {}, undefined, { consoleDir })
  const base = await api.app.listen({ host: '127.0.0.1', port: 0 })
  const admin = await api.user('admin', 'admin')
  const member = await api.user('member', 'alice')
  const auditor = await api.user('auditor', 'audrey')
  const bystander = await api.user('member', 'bob')
  const project = (await api.request({ method: 'POST', url: '/api/projects', as: member, payload: { name: 'Launch' } })).json()
  const tasks: Array<{ id: number }> = []
  for (const title of ['Write copy', 'Book venue', 'Send invites']) {
    tasks.push((await api.request({ method: 'POST', url: '/api/tasks', as: member, payload: { projectId: project.id, title } })).json())
  }
  const auditorEditsTask = () =>
    api.request({ method: 'PATCH', url: `/api/tasks/${tasks[0]!.id}`, as: auditor, payload: { title: 'Edited by the auditor' } })
  const activeVersion = async () => (await api.request({ url: '/api/admin/policies', as: admin })).json().version as number

  const browser = await launchBrowser(t)
  const page = await browser.page()

  t.test('the page is served with a CSP that allows only its own scripts and styles', async (t) => {
    const res = await fetch(`${base}/admin/`)
    t.equal(res.status, 200)
    const csp = res.headers.get('content-security-policy') ?? ''
    t.match(csp, /script-src 'self'(;|$)/)
    t.match(csp, /style-src 'self'(;|$)/)
    t.notMatch(csp, /unsafe-inline|unsafe-eval|https?:/)
    const html = await res.text()
    t.notMatch(html, /<script>|<style>|style="|https?:\/\/(?!www\.w3)/, 'no inline code and nothing from another origin')
  })

  t.test('a member is refused and keeps no token', async (t) => {
    t.equal((await auditorEditsTask()).statusCode, 403, 'before any change auditors cannot edit tasks')
    await signIn(page, base, member)
    await page.getByText('Access refused').waitFor()
    t.match(await page.getByRole('alert').innerText(), new RegExp(`${member.username}.*member.*administrators only`, 's'))
    t.equal(await page.evaluate(() => sessionStorage.length), 0, 'the token was dropped')
    await browser.screenshot(page, '01-member-refused')
    t.same(await browser.accessibility(page), [], 'sign-in: no WCAG 2.1 AA violation')
  })

  t.test('an admin signs in with the keyboard alone', async (t) => {
    await page.goto(`${base}/admin/`)
    await page.getByLabel('Username').waitFor()
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'username', 'Tab reaches the username field first')
    await page.keyboard.type(admin.username)
    await page.keyboard.press('Tab')
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Rules' }).waitFor()
    t.ok(await page.evaluate(() => sessionStorage.getItem('policy-console.token')), 'the token lives in sessionStorage')
    t.equal((await page.context().cookies()).length, 0, 'and in no cookie')
  })

  t.test('the rules are shown by role, as the API has them', async (t) => {
    const policy = (await api.request({ url: '/api/admin/policies', as: admin })).json()
    for (const rule of policy.rules) {
      const card = page.getByRole('article', { name: `Rule ${rule.id}` })
      await card.waitFor()
      t.ok(
        await page.locator(`section:has(h3:has-text("Role ${rule.role}")) >> article[aria-label="Rule ${rule.id}"]`).count(),
        `${rule.id} under ${rule.role}`,
      )
    }
    await t.resolves(checkStatus(page).filter({ hasText: 'Valid, table passes' }).waitFor())
    await browser.screenshot(page, '02-rules')
    t.same(await browser.accessibility(page), [], 'rules: no WCAG 2.1 AA violation')
  })

  t.test('an invalid rule is reported inline while editing the JSON', async (t) => {
    await page.getByRole('button', { name: 'Edit as JSON' }).click()
    const editor = page.getByLabel('All rules as JSON (each with its role)')
    const text = await editor.inputValue()
    await editor.fill(text.replace('"subject": "Project"', '"subject": "Projekt"'))
    const errors = page.getByRole('list', { name: 'Validation errors' }).first()
    await errors.waitFor()
    t.match(await errors.innerText(), /member\.projects\.own.*Projekt/s, 'names the rule and the unknown subject')
    t.same(await browser.accessibility(page), [], 'JSON editor with errors: no WCAG 2.1 AA violation')
    await editor.fill(text.slice(0, 40))
    await page.getByText(/^JSON: /).waitFor()
    await editor.fill('[null]')
    t.match(
      await page.getByText(/^JSON: /).innerText(),
      /Rule 1 must be an object with a string "id" and "role"/,
      'a misshapen rule never reaches the draft',
    )
    await page.getByRole('button', { name: 'Edit as forms' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click()
    t.equal(await editor.inputValue(), '[null]', 'leaving JSON that does not parse asks first; Cancel keeps the text')

    // Well enough shaped to reach the draft, wrong everywhere else: the API says so, the page stays up.
    await editor.fill(JSON.stringify([{ id: 'odd', role: 'member', action: { a: 1 }, subject: 'Task', reason: { b: 2 } }]))
    await page.getByText('The draft cannot be checked').waitFor()
    await page.getByRole('button', { name: 'Edit as forms' }).click()
    const odd = page.getByRole('article', { name: 'Rule odd' })
    t.match(await odd.innerText(), /\{"a":1\}/, 'the odd rule is shown as it is')
    await page.getByRole('button', { name: 'Edit rule odd' }).click()
    t.equal(await page.getByLabel('Reason (shown to users who are refused, optional)').inputValue(), '', 'and its form opens')
    await page.getByRole('button', { name: 'Cancel' }).click()
    await page.getByRole('button', { name: 'Edit as JSON' }).click()

    // A valid edit, then Discard: the editor shows the active rules again.
    await editor.fill(text.replace('Members manage the projects they own.', 'Edited in JSON.'))
    await checkStatus(page).filter({ hasText: 'Valid, table passes' }).waitFor()
    t.match(await page.locator('.draft-status').innerText(), /1 rule change/)
    await page.getByRole('button', { name: 'Discard draft' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Discard draft' }).click()
    await page.getByText(/no rule changes · Valid/).waitFor()
    await t.resolves(
      page.waitForFunction((expected) => (document.getElementById('rules-json') as HTMLTextAreaElement).value === expected, text),
      'the editor follows the discarded draft',
    )
    await page.getByRole('button', { name: 'Edit as forms' }).click()
  })

  let expectedFlips: Array<{ row: number }> = []
  t.test('change a rule in the form: the draft flips table rows', async (t) => {
    await page.getByRole('button', { name: 'Edit rule auditor.read-projects' }).click()
    await page.getByRole('button', { name: 'Edit rule auditor.read-tasks' }).click()
    t.equal(await page.getByLabel('Rule id').inputValue(), 'auditor.read-tasks', 'opening another rule shows that rule')
    t.same(await browser.accessibility(page), [], 'rule form: no WCAG 2.1 AA violation')
    await page.getByRole('checkbox', { name: 'update' }).check()
    await page.getByRole('button', { name: 'Save to draft' }).click()
    await page.locator('article[aria-label="Rule auditor.read-tasks"] .badge.changed').waitFor()
    await t.resolves(
      page.waitForFunction(() => document.activeElement?.id === 'rule-auditor.read-tasks'),
      'focus lands on the saved rule',
    )
    await checkStatus(page)
      .filter({ hasText: /table rows? fail/ })
      .waitFor()

    // What the API says about the same draft.
    const policy = (await api.request({ url: '/api/admin/policies', as: admin })).json()
    const rules = policy.rules.map((rule: { id: string }) =>
      rule.id === 'auditor.read-tasks' ? { ...rule, action: ['read', 'update'] } : rule,
    )
    const report = (
      await api.request({ method: 'POST', url: '/api/admin/policies/validate', as: admin, payload: { rules, table: policy.table } })
    ).json()
    expectedFlips = report.flips
    t.ok(expectedFlips.length > 0, `the API reports ${expectedFlips.length} flipped rows`)

    await page
      .getByRole('link', { name: /Review & activate/ })
      .first()
      .click()
    const flipped = page.locator('table.flips tbody tr')
    await flipped.first().waitFor()
    t.same(
      await flipped.locator('td:first-child').allInnerTexts(),
      expectedFlips.map((flip) => String(flip.row)),
      'the console lists exactly the flipped rows',
    )
    t.match(await flipped.first().innerText(), /auditor\s+update\s+Task\s+own\s+deny 403\s+allow 200/)
    t.equal(
      await page.locator('details.table-results tbody tr.flipped').count(),
      expectedFlips.length,
      'and highlights them in the decision table',
    )

    const auditorImpact = page.locator('table.impact tr[data-role="auditor"]')
    t.match(
      await auditorImpact.locator('td').nth(3).innerText(),
      new RegExp(`\\+${tasks.length} tasks`),
      `auditors could now change all ${tasks.length} tasks`,
    )
    t.match(await auditorImpact.locator('td').nth(1).innerText(), /—/, 'and no project')
    await browser.screenshot(page, '03-review-flips-impact')
    t.same(await browser.accessibility(page), [], 'review: no WCAG 2.1 AA violation')
  })

  t.test('activating while table rows fail: the API refuses and the console shows the rows', async (t) => {
    await page.getByRole('button', { name: 'Activate as version 2' }).click()
    const refusal = page.locator('form.activate')
    await refusal.getByText('Not activated').waitFor()
    t.match(await refusal.innerText(), /\(422\)[\s\S]*9 decision-table row\(s\) fail/)
    t.equal(await refusal.locator('details.table-results tbody tr').count(), expectedFlips.length, 'the failing rows, listed')
    t.equal(await activeVersion(), 1, 'nothing was activated')
  })

  t.test('accept the new outcomes and activate: the API enforces the change', async (t) => {
    await page.getByRole('button', { name: /Accept the new outcomes? into the draft table/ }).click()
    await checkStatus(page).filter({ hasText: 'Valid, table passes' }).waitFor()
    await page.getByLabel('Change message').fill('Auditors may correct tasks')
    await page.getByRole('button', { name: 'Activate as version 2' }).click()
    await page.getByText('Version 2 is active on every instance.').waitFor()
    t.equal(await activeVersion(), 2)
    const res = await auditorEditsTask()
    t.equal(res.statusCode, 200, 'an auditor may now edit a task')
    const version = (await api.request({ url: '/api/admin/policies/versions/2', as: admin })).json()
    t.equal(version.message, 'Auditors may correct tasks')
    t.equal(version.author, admin.username)
    t.equal(
      version.table.filter(
        (row: { role: string; action: string; subject: string; expect: string }) =>
          row.role === 'auditor' && row.subject === 'Task' && row.action === 'update' && row.expect === 'allow',
      ).length,
      4,
      'with the table updated: own, shared as editor and as viewer, other',
    )
  })

  t.test('a stale draft gets a 409 and is re-applied on the latest version', async (t) => {
    await page.goto(`${base}/admin/#/rules`)
    await page.getByRole('button', { name: 'Edit rule admin.manage-all' }).click()
    await page.getByLabel('Reason (shown to users who are refused, optional)').fill('Admins manage everything.')
    await page.getByRole('button', { name: 'Save to draft' }).click()
    await checkStatus(page).filter({ hasText: 'Valid, table passes' }).waitFor()
    // Meanwhile another admin activates version 3.
    const current = (await api.request({ url: '/api/admin/policies', as: admin })).json()
    const meanwhile = await api.request({
      method: 'PUT',
      url: '/api/admin/policies',
      as: admin,
      headers: { 'if-match': '"2"' },
      payload: {
        rules: current.rules.map((r: { id: string }) =>
          r.id === 'member.projects.own'
            ? { ...r, reason: 'Owners manage their projects.' }
            : r.id === 'admin.manage-all'
              ? { ...r, reason: 'Theirs.' }
              : r,
        ),
        message: 'meanwhile',
      },
    })
    t.equal(meanwhile.statusCode, 200)
    await page.goto(`${base}/admin/#/review`)
    await checkStatus(page).filter({ hasText: 'Valid, table passes' }).waitFor()
    await page.getByRole('button', { name: /Activate as version/ }).click()
    await page.getByText('The policy changed meanwhile', { exact: true }).waitFor()
    await browser.screenshot(page, '04-conflict')
    await page.getByRole('button', { name: 'Reload the latest version and re-apply my edit' }).click()
    await page.getByText(/Draft based on version 3/).waitFor()
    t.same(
      await page.getByRole('list', { name: 'Edits kept over another change' }).getByRole('listitem').allInnerTexts(),
      ['rule admin.manage-all (version 3 changed it too)'],
      'the rule both admins changed is pointed out',
    )
    await checkStatus(page).filter({ hasText: 'Valid, table passes' }).waitFor()
    await page.getByRole('button', { name: 'Activate as version 4' }).click()
    await page.getByText('Version 4 is active on every instance.').waitFor()
    const rules = (await api.request({ url: '/api/admin/policies', as: admin })).json().rules as Array<{ id: string; reason?: string }>
    t.equal(rules.find((r) => r.id === 'admin.manage-all')?.reason, 'Admins manage everything.', 'my edit is live')
    t.equal(rules.find((r) => r.id === 'member.projects.own')?.reason, 'Owners manage their projects.', 'and the other admin’s is kept')
  })

  t.test('history: versions side by side, then roll back', async (t) => {
    await page.goto(`${base}/admin/#/history`)
    const rows = page.locator('table.versions tbody tr')
    await rows.first().waitFor()
    t.same(await rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.version)), ['4', '3', '2', '1'])
    await page.getByRole('button', { name: 'Compare from version 1' }).click()
    await page.getByRole('button', { name: 'Compare to version 2' }).click()
    await page.getByRole('heading', { name: 'Version 1 ↔ version 2' }).waitFor()
    const changed = page.locator('table.side-by-side tr[data-rule="auditor.read-tasks"]')
    await changed.waitFor()
    t.match(
      await changed.innerText(),
      /changed[\s\S]*− +"action": "read",[\s\S]*\+ +"action": \[[\s\S]*\+ +"update"/,
      'the rule before and after, side by side, changed lines marked',
    )
    t.equal(await page.locator('table.side-by-side tbody tr').count(), 1, 'only the rule that differs')
    await browser.screenshot(page, '05-history-diff')
    t.same(await browser.accessibility(page), [], 'history: no WCAG 2.1 AA violation')

    await page.getByRole('button', { name: 'Roll back to version 1' }).click()
    const dialog = page.getByRole('dialog')
    t.match(await dialog.innerText(), /version 1 again, as version 5/)
    await dialog.getByRole('button', { name: 'Roll back to 1' }).click()
    await page.getByText('Rolled back: version 5 has the rules of version 1.').waitFor()
    await page.locator('table.versions tbody tr[data-version="5"]').waitFor()
    t.equal(await activeVersion(), 5)
    t.equal((await auditorEditsTask()).statusCode, 403, 'after the rollback auditors cannot edit tasks again')
  })

  t.test('the audit log shows the changes, filterable and paginated', async (t) => {
    // A denied request, for the log to show.
    t.equal((await api.request({ url: `/api/projects/${project.id}`, as: bystander })).statusCode, 404)
    await page.goto(`${base}/admin/#/audit`)
    await page.locator('table.audit tbody tr').first().waitFor()
    const body = page.locator('table.audit tbody')
    const apply = () => page.getByRole('button', { name: 'Apply filters' }).click()
    // The previous page stays on screen while the next loads: wait for rows only the filter gives.
    const onlyRows = (kind: string, count: number) =>
      page.waitForFunction(
        ([kind, count]) => {
          const rows = Array.from(document.querySelectorAll('table.audit tbody tr'))
          return rows.length === count && rows.every((row) => row.classList.contains(kind))
        },
        [kind, count] as const,
      )
    await page.getByLabel('Kind').selectOption('policy.activate')
    await apply()
    await t.resolves(onlyRows('policy-activate', 3), 'three activations (versions 2, 3 and 4)')
    t.match(await page.locator('.pager').innerText(), /1–3 of 3/)
    t.match(
      await body.innerText(),
      /Version 2 \(from 1\): “Auditors may correct tasks”.*changed auditor\.read-tasks.*table row\(s\) flipped/s,
    )
    await page.getByLabel('Kind').selectOption('policy.rollback')
    await apply()
    await t.resolves(onlyRows('policy-rollback', 1), 'one rollback')
    t.match(await body.innerText(), new RegExp(`Rollbacks\\s+${admin.username}.*Version 5 \\(from 4\\): “Rollback to version 1”`, 's'))

    // Denials: one user, one subject, a time window, pages of 25.
    for (let i = 0; i < 30; i++) await api.request({ url: `/api/tasks/${tasks[i % tasks.length]!.id}`, as: bystander })
    await page.getByLabel('Kind').selectOption('request.denied')
    await page.getByLabel('User id').fill(String(bystander.id))
    await page.getByLabel('Subject').fill('Project')
    await apply()
    await body.getByText(`read Project #${project.id} → 404`).waitFor()
    t.equal(await body.locator('tr').count(), 1, 'the one denied project read')
    await page.getByLabel('Subject').fill('Task')
    await apply()
    await page.locator('.pager').getByText('1–25 of 30').waitFor()
    t.equal(await body.locator('tr.request-denied').count(), 25)
    await page.getByRole('button', { name: 'Next →' }).click()
    await page.locator('.pager').getByText('26–30 of 30').waitFor()
    t.equal(await body.locator('tr.request-denied').count(), 5, 'the second page')
    await page.getByLabel('From').fill('2099-01-01T00:00')
    await apply()
    await body.getByText('No events match.').waitFor()
    t.match(await page.locator('.pager').innerText(), /0–0 of 0/, 'nothing after a future time')
    await page.getByLabel('From').fill('')
    await apply()
    await page.locator('.pager').getByText('1–25 of 30').waitFor()
    await browser.screenshot(page, '06-audit')
    t.same(await browser.accessibility(page), [], 'audit: no WCAG 2.1 AA violation')
  })

  t.test('explain: the deciding rule, linked to the rules view', async (t) => {
    await page.goto(`${base}/admin/#/explain`)
    await page.getByRole('combobox', { name: /^User/ }).selectOption(String(member.id))
    await page.getByLabel('Action').selectOption('update')
    await page.getByLabel('Subject').selectOption('Task')
    await page.getByLabel('Object id').fill(String(tasks[0]!.id))
    await page.getByRole('button', { name: 'Explain' }).click()
    const answer = page.locator('.explanation')
    await answer.waitFor()
    t.match(await answer.innerText(), /Allowed[\s\S]*member\.tasks\.in-own-projects/)
    await browser.screenshot(page, '07-explain')
    t.same(await browser.accessibility(page), [], 'explain: no WCAG 2.1 AA violation')
    await page.getByRole('combobox', { name: /^User/ }).selectOption(String(auditor.id))
    await page.getByRole('button', { name: 'Explain' }).click()
    await page.locator('.explanation.denied').waitFor()
    t.match(await answer.innerText(), /Denied/)
    await page.getByRole('combobox', { name: /^User/ }).selectOption(String(member.id))
    await page.getByRole('button', { name: 'Explain' }).click()
    await page.locator('.explanation.allowed').waitFor()
    await answer.getByRole('link', { name: 'member.tasks.in-own-projects' }).click()
    await page.locator('article.highlighted[aria-label="Rule member.tasks.in-own-projects"]').waitFor()
    t.match(page.url(), /#\/rules\/member\.tasks\.in-own-projects$/, 'the link leads to the rule, highlighted')
  })

  t.test('access: who can reach a project, what one user can do', async (t) => {
    // A project of the member's, shared with an editor and a viewer, with one task.
    const editor = await api.user('member', 'erin')
    const viewer = await api.user('member', 'vera')
    const shared = (await api.request({ method: 'POST', url: '/api/projects', as: member, payload: { name: 'Shared plans' } })).json()
    for (const [who, role] of [
      [editor, 'editor'],
      [viewer, 'viewer'],
    ] as const) {
      const res = await api.request({
        method: 'POST',
        url: `/api/projects/${shared.id}/members`,
        as: member,
        payload: { username: who.username, role },
      })
      t.equal(res.statusCode, 201, `shared with ${who.username} as ${role}`)
    }
    const task = (
      await api.request({ method: 'POST', url: '/api/tasks', as: member, payload: { projectId: shared.id, title: 'Plan' } })
    ).json()

    await page.goto(`${base}/admin/#/access`)
    await page.getByRole('heading', { name: 'Who can access this project?' }).waitFor()
    await page.getByLabel('Project id').fill('999999')
    await page.getByRole('button', { name: 'Show who can access it' }).click()
    const missing = page.locator('.access-project .problem')
    await missing.waitFor()
    t.match(
      await missing.innerText(),
      /Cannot show access to project #999999 \(404\)[\s\S]*not found/i,
      'an unknown project: the API’s 404',
    )

    await page.getByLabel('Project id').fill(String(shared.id))
    await page.getByRole('button', { name: 'Show who can access it' }).click()
    const roles = page.locator('table.access-roles')
    await roles.waitFor()
    const expected = (await api.request({ url: `/api/projects/${shared.id}/access`, as: admin })).json()
    t.equal(await roles.locator('tbody tr').count(), expected.roles.length, 'one row per role')
    // A cell not allowed reads "—" and, for screen readers only, e.g. "Update: not allowed".
    const shown = async (row: Locator) => (await row.innerText()).replace(/(Read|Update|Delete|Create task): not allowed/g, '')
    const roleRow = (role: string) => roles.locator(`tr[data-role="${role}"]`)
    t.match(await shown(roleRow('member')), /member\s+inverted\s+4\s+—\s+—\s+—\s+—\s+3/, 'members: nothing role-wide, 3 listed')
    t.match(await shown(roleRow('auditor')), /auditor\s+inverted\s+1\s+auditor\.read-projects\s+—\s+—\s+—\s+0/)
    t.match(await shown(roleRow('admin')), /admin\s+inverted\s+1(\s+admin\.manage-all){4}\s+0/, 'admins may do everything')
    const users = page.locator('table.access-users')
    const userRow = (who: Account) => users.locator(`tr[data-user="${who.username}"]`)
    t.equal(await users.locator('tbody tr').count(), 3, 'the owner, the editor and the viewer')
    t.match(
      await shown(userRow(member)),
      /member(\s+member\.projects\.own){3}\s+member\.tasks\.in-own-projects/,
      'the owner by member.projects.own',
    )
    t.match(await shown(userRow(editor)), /member\s+member\.projects\.shared\s+—\s+—\s+member\.tasks\.shared-edit/)
    t.match(await shown(userRow(viewer)), /member\s+member\.projects\.shared\s+—\s+—\s+—/)
    t.same(
      expected.users.items.map((user: { username: string }) => user.username).sort(),
      [member.username, editor.username, viewer.username].sort(),
      'as the API lists them',
    )
    t.match(await page.locator('.access-project .pager').innerText(), /1–3 of 3/)

    // What can the editor do? One shared project to read, its one task to change.
    await page.getByRole('combobox', { name: /^User/ }).selectOption(String(editor.id))
    await page.getByRole('button', { name: 'Show what they can do' }).click()
    const reach = page.locator('table.access-reach')
    await reach.waitFor()
    const reachRow = (subject: string, action: string) => reach.locator(`tr[data-subject="${subject}"][data-action="${action}"]`)
    t.match(
      await shown(reachRow('Project', 'read')),
      new RegExp(`Project\\s+read\\s+1\\s+${shared.id}\\s+member\\.projects\\.shared: 1`),
      'reads the one shared project',
    )
    t.match(
      await shown(reachRow('Project', 'update')),
      /Project\s+update\s+0\s+—\s+member\.projects\.own: 0/,
      'and changes none: the rule that could, decides nothing',
    )
    t.match(
      await shown(reachRow('Task', 'update')),
      new RegExp(`Task\\s+update\\s+1\\s+${task.id}\\s+member\\.tasks\\.shared-edit: 1`),
      'changes its task as an editor',
    )
    await browser.screenshot(page, '12-access')
    t.same(await browser.accessibility(page), [], 'access: no WCAG 2.1 AA violation')

    await page.setViewportSize({ width: 390, height: 844 })
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    t.ok(overflow <= 0, `access at 390×844: the page itself does not scroll sideways (${overflow}px)`)
    await browser.screenshot(page, '12-access-phone')
    await page.setViewportSize({ width: 1280, height: 800 })

    await reachRow('Task', 'update').getByRole('link', { name: 'member.tasks.shared-edit' }).click()
    await page.locator('article.highlighted[aria-label="Rule member.tasks.shared-edit"]').waitFor()
    t.match(page.url(), /#\/rules\/member\.tasks\.shared-edit$/, 'a rule id leads to the rule')
  })

  t.test('users: change a role, delete with confirmation', async (t) => {
    await page.goto(`${base}/admin/#/users`)
    await page.getByLabel(`Role of ${bystander.username}`).selectOption('auditor')
    await page.getByRole('button', { name: `Save role of ${bystander.username}` }).click()
    await page.getByText(`${bystander.username} is now auditor.`).waitFor()
    t.equal((await api.request({ url: `/api/admin/users/${bystander.id}`, as: admin })).json().role, 'auditor')
    await browser.screenshot(page, '08-users')
    t.same(await browser.accessibility(page), [], 'users: no WCAG 2.1 AA violation')

    await page.getByRole('button', { name: `Delete ${bystander.username}` }).click()
    const dialog = page.getByRole('dialog')
    t.match(await dialog.innerText(), new RegExp(`Delete ${bystander.username} with all their projects and tasks`))
    await t.resolves(
      page.waitForFunction(() => document.activeElement?.textContent === 'Cancel'),
      'the safe answer has the focus',
    )
    t.same(await browser.accessibility(page), [], 'confirmation dialog: no WCAG 2.1 AA violation')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    t.equal((await api.request({ url: `/api/admin/users/${bystander.id}`, as: admin })).statusCode, 200, 'Escape deletes nothing')
    await page.getByRole('button', { name: `Delete ${bystander.username}` }).click()
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    t.equal((await api.request({ url: `/api/admin/users/${bystander.id}`, as: admin })).statusCode, 200, 'Cancel deletes nothing')
    await page.getByRole('button', { name: `Delete ${bystander.username}` }).click()
    await page
      .getByRole('dialog')
      .getByRole('button', { name: `Delete ${bystander.username}` })
      .click()
    await page.getByText(`${bystander.username} was deleted.`).waitFor()
    t.equal((await api.request({ url: `/api/admin/users/${bystander.id}`, as: admin })).statusCode, 404)
  })

  t.test('the decision table: add a row and run it against the draft', async (t) => {
    await page.goto(`${base}/admin/#/table`)
    const rows = page.locator('table.decision-table tbody tr')
    await rows.first().waitFor()
    const before = await rows.count()
    await page.getByRole('button', { name: 'Add row' }).click()
    const n = before + 1
    await page.getByLabel(`Row ${n} role`).fill('auditor')
    await page.getByLabel(`Row ${n} action`).selectOption('delete')
    await page.getByLabel(`Row ${n} subject`).selectOption('Task')
    await page.getByLabel(`Row ${n} resource`).selectOption('other')
    const row = page.locator(`tr[data-row="${n}"]`)
    await row.locator('td.deny').filter({ hasText: 'deny 403 ✗' }).waitFor()
    t.match(await checkStatus(page).innerText(), /1 table row fails?/, 'a wrong expectation fails: auditors cannot delete tasks (403)')
    await page.getByLabel(`Row ${n} expect`).selectOption('deny')
    await page.getByLabel(`Row ${n} status`).fill('403')
    await row.locator('td.allow').filter({ hasText: 'deny 403 ✓' }).waitFor()
    await checkStatus(page).filter({ hasText: 'Valid, table passes' }).waitFor()
    await browser.screenshot(page, '09-decision-table')
    t.same(await browser.accessibility(page), [], 'decision table: no WCAG 2.1 AA violation')

    await page.reload()
    await page.locator(`tr[data-row="${n}"]`).waitFor()
    t.equal(await rows.count(), before + 1, 'a reload keeps the session and the draft')
    await page.goto(`${base}/admin/#/rules`)
    await page.getByRole('button', { name: 'Discard draft' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Discard draft' }).click()
    await page.getByText(/no rule changes · Valid/).waitFor()
    await page.goto(`${base}/admin/#/table`)
    await rows.first().waitFor()
    t.equal(await rows.count(), before, 'discarding drops the added row')
  })

  t.test('a corrupted stored draft is set aside, not a broken page', async (t) => {
    await page.goto(`${base}/admin/#/rules`)
    await page.locator('article.rule').first().waitFor()
    await page.evaluate(() => {
      for (const key of Object.keys(sessionStorage))
        if (key.startsWith('policy-console.draft.')) sessionStorage.setItem(key, '{"basedOn":1,"rules":[null],"table":[null]}')
    })
    await page.reload()
    await page.getByText(/no rule changes · Valid/).waitFor()
    t.equal(
      await page.locator('article.rule').count(),
      (await api.request({ url: '/api/admin/policies', as: admin })).json().rules.length,
      'the active rules, as a fresh draft',
    )
  })

  t.test('a change that would lock admins out is flagged, and refused with the reason', async (t) => {
    await page.goto(`${base}/admin/#/rules`)
    await page.getByRole('button', { name: 'Remove rule admin.manage-all' }).click()
    await page.locator('article.removed[aria-label="Rule admin.manage-all"]').waitFor()
    await page.goto(`${base}/admin/#/review`)
    const warning = page.locator('.problem', { hasText: 'This change would lock administrators out' })
    await warning.waitFor()
    t.match(await warning.innerText(), /No role could manage policies any more/)
    // Past the table (the admins' rows flip too), the lockout is what the API refuses.
    await page.getByRole('button', { name: /Accept the new outcomes? into the draft table/ }).click()
    await checkStatus(page).filter({ hasText: 'Valid, table passes' }).waitFor()
    await page.getByRole('button', { name: /Activate as version/ }).click()
    const refusal = page.locator('form.activate .problem')
    await refusal.waitFor()
    t.match(await refusal.innerText(), /Not activated \(422\)[\s\S]*No role could manage policies any more/)
    t.equal(await activeVersion(), 5, 'nothing was activated')
    await browser.screenshot(page, '11-lockout')
    await page.goto(`${base}/admin/#/rules`)
    await page.getByRole('button', { name: 'Discard draft' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Discard draft' }).click()
    await page.getByText(/no rule changes · Valid/).waitFor()
  })

  t.test('readable at 390×844', async (t) => {
    // sessionStorage belongs to one tab: a new tab signs in again.
    const phone = await browser.page({ width: 390, height: 844 })
    await signIn(phone, base, admin)
    await phone.getByRole('heading', { name: 'Rules' }).waitFor()
    const loaded = {
      rules: 'article.rule',
      table: 'table.decision-table',
      review: 'table.impact',
      history: 'table.versions',
      explain: 'form.explain',
      access: 'section.access-project form',
      audit: 'table.audit',
      users: 'table.users',
    }
    for (const [view, selector] of Object.entries(loaded)) {
      await phone.goto(`${base}/admin/#/${view}`)
      await phone.locator(selector).first().waitFor()
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      t.ok(overflow <= 0, `${view}: the page itself does not scroll sideways (${overflow}px)`)
      await browser.screenshot(phone, `10-phone-${view}`)
    }
    await phone.close()
  })

  t.test('a deleted or demoted admin is signed out on their next request', async (t) => {
    for (const [what, change] of [
      ['deleted', (id: number) => api.request({ method: 'DELETE', url: `/api/admin/users/${id}`, as: admin })],
      ['demoted', (id: number) => api.request({ method: 'PATCH', url: `/api/admin/users/${id}`, as: admin, payload: { role: 'member' } })],
    ] as const) {
      const other = await api.user('admin', `second-admin-${what}`)
      const tab = await browser.page()
      await signIn(tab, base, other)
      await tab.getByRole('heading', { name: 'Rules' }).waitFor()
      t.ok([200, 204].includes((await change(other.id)).statusCode), `${other.username} ${what}`)
      await tab.goto(`${base}/admin/#/users`)
      await tab.getByLabel('Username').waitFor()
      t.match(
        await tab.locator('.sign-in .notice').innerText(),
        what === 'deleted' ? /The access token is invalid or expired/ : /no longer has access/,
        `${what}: back to sign-in, with the reason`,
      )
      t.equal(await tab.evaluate(() => sessionStorage.getItem('policy-console.token')), null, `${what}: the token is gone`)
      await tab.close()
    }

    // A token that no longer works when the page is reloaded (expired, forged).
    const tab = await browser.page()
    await signIn(tab, base, admin)
    await tab.getByRole('heading', { name: 'Rules' }).waitFor()
    await tab.evaluate(() => sessionStorage.setItem('policy-console.token', 'expired.or.forged'))
    await tab.reload()
    await tab.getByLabel('Username').waitFor()
    t.equal(
      await tab.locator('.sign-in .notice').innerText(),
      'The access token is invalid or expired.',
      'reload with a dead token: sign-in, with the reason',
    )
    t.equal(await tab.evaluate(() => sessionStorage.getItem('policy-console.token')), null, 'and the dead token is dropped')
    await tab.close()
  })

  t.test('sign out clears the token', async (t) => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByText('You have signed out.').waitFor()
    t.equal(await page.evaluate(() => sessionStorage.length), 0, 'no token, no draft')
    await page.reload()
    await t.resolves(page.getByLabel('Username').waitFor(), 'a reload shows the sign-in page')
  })

  t.test('no script error, failed asset or CSP violation on the way', async (t) => {
    t.same(browser.problems, [])
  })
})
