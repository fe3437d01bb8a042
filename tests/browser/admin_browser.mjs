// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// against the /admin console: log in with a code, see the overview's
// numbers and its four inline SVG charts actually drawn (in light and in
// dark), a model name carrying <script> shown as text and never run, the
// live refresh swapping the numbers in under the page's CSP, the
// navigation to /tokens, and the logout.  Screenshots of every page go to
// the artifacts directory.
//
// On /admin/accounts it adds an account the mock validates through the
// form, validates all, deletes all its upstream chats (through the
// question page), and deletes it again.
//
// usage: node admin_browser.mjs BASE_URL CODE ARTIFACT_DIR NEW_CREDENTIAL NEW_FP
// Prints one JSON object per line: {"check","ok","detail"}, then {"done":true}.
// tests/integration/test_admin.py turns them into test results.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, code, art, newCred, newFp] = process.argv.slice(2);

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
function check(name, ok, detail) {
  out({ check: name, ok: !!ok, detail: ok ? undefined : String(detail ?? '') });
  return !!ok;
}
async function submit(page, selector) {
  const [resp] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(selector),
  ]);
  return resp;
}
async function shot(page, name) {
  const f = path.join(art, name);
  await page.screenshot({ path: f, fullPage: true });
  check('screenshot ' + name, fs.existsSync(f) && fs.statSync(f).size > 1000, f);
}
// Every chart's drawn size and how many bars and lines it holds.
async function charts(page) {
  return page.$$eval('svg.chart', (svgs) => svgs.map((s) => {
    const b = s.getBoundingClientRect();
    return { id: s.parentElement.id, w: b.width, h: b.height,
      bars: s.querySelectorAll('rect.ch-bar').length,
      errs: s.querySelectorAll('rect.ch-err').length,
      line: (s.querySelector('path.ch-line')?.getAttribute('d') ?? '').length };
  }));
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'c2a-chromium-'));
let ctx;
try {
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
  });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  page.setDefaultTimeout(20000);
  const consoleErrors = [];
  const dialogs = [];
  const offsite = [];
  // The login page answers 401 on purpose; Chromium reports that status.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 401/.test(m.text())) consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on('request', (q) => { if (!q.url().startsWith(base) && !q.url().startsWith('data:')) offsite.push(q.url()); });

  let resp = await page.goto(base + '/admin');
  check('GET /admin without a session: 401 and the login form',
    resp.status() === 401 && await page.isVisible('#login-form'), resp.status());
  const h1 = (await page.textContent('header h1')) ?? '';
  check('the login page says admin, not tokens', /admin/.test(h1) && !/tokens/.test(h1), h1);
  await shot(page, 'admin-login.png');
  await page.fill('#code', code);
  resp = await submit(page, '#login-btn');
  check('login lands on the overview',
    resp.status() === 200 && new URL(page.url()).pathname === '/admin' &&
    /Logged in/.test(await page.textContent('#flash') ?? ''), page.url());

  const req = Number.parseInt(await page.textContent('#requests') ?? 'NaN', 10);
  check('the overview counts the test\'s requests', req >= 5, req);
  const c = await charts(page);
  check('six SVG charts, each drawn with a real size',
    c.length === 6 && c.every((x) => x.w > 200 && x.h > 20), JSON.stringify(c));
  const byId = Object.fromEntries(c.map((x) => [x.id, x]));
  check('the per-minute chart has request and error bars',
    byId['chart-rpm']?.bars > 0 && byId['chart-rpm']?.errs > 0, JSON.stringify(byId['chart-rpm']));
  check('the per-hour chart of the last day has request and error bars',
    byId['chart-rpm-day']?.bars > 0 && byId['chart-rpm-day']?.errs > 0,
    JSON.stringify(byId['chart-rpm-day']));
  check('the latency chart has its line',
    byId['chart-latency']?.line > 4, JSON.stringify(byId['chart-latency']));
  check('the share charts have bars',
    byId['chart-providers']?.bars > 0 && byId['chart-models']?.bars > 0, JSON.stringify(c));
  const models = await page.textContent('#chart-models') ?? '';
  check('a model name with <script> is shown as text',
    models.includes('<script>alert(1)</script>'), models.slice(0, 300));
  check('nothing ran from it', dialogs.length === 0 &&
    await page.evaluate(() => document.querySelectorAll('#live script').length) === 0,
    JSON.stringify(dialogs));
  await shot(page, 'admin-overview.png');

  // The live refresh: the page's script fetches ?fragment=1 and swaps it in.
  const refreshed = await page.waitForFunction(
    () => document.getElementById('live')?.getAttribute('data-refreshed'),
    null, { timeout: 25000 }).then(() => true, () => false);
  check('the live refresh ran under the CSP and kept the charts',
    refreshed && (await charts(page)).length === 6, 'no refresh within 25 s');

  await page.emulateMedia({ colorScheme: 'dark' });
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check('dark mode follows prefers-color-scheme', bg === 'rgb(18, 21, 27)', bg);
  await shot(page, 'admin-overview-dark.png');
  await page.emulateMedia({ colorScheme: 'light' });

  // --- accounts
  resp = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.click('nav a[href$="/admin/accounts"]')]).then((x) => x[0]);
  check('the navigation reaches the accounts page', resp.status() === 200 &&
    await page.isVisible('#accounts'), resp.status());
  resp = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.click('#tabs a[href$="provider=deepseek"]')]).then((x) => x[0]);
  await page.fill('input[name=credential]', newCred);
  await page.fill('#f-label', 'from the browser');
  await page.fill('#f-limit', '20');
  resp = await submit(page, '#add-btn');
  const row = page.locator(`tr[data-fp="${newFp}"]`);
  check('add an account through the form: validated, listed, active',
    /validated and added/.test(await page.textContent('#flash') ?? '') &&
    await row.count() === 1 && /active/.test(await row.textContent() ?? ''),
    await page.textContent('#flash'));
  check('the secret itself is nowhere on the page',
    !(await page.content()).includes(newCred), 'secret shown');
  check('today\'s use against the limit drawn as a bar',
    await row.locator('svg.use rect.use-bg').count() === 1, 'no bar');
  const label = await page.textContent(`tr[data-fp] td.label`) ?? '';
  check('a label with <script> is shown as text',
    (await page.locator('td.label').allTextContents()).includes('<script>alert(1)</script>'),
    label);
  await shot(page, 'admin-accounts.png');
  // Bulk validate with JavaScript: one POST per row (its own form, CSRF
  // included), a <progress> filled as they answer, no page change.
  const rows = await page.locator('#accounts tr[data-fp]').count();
  const posts = [];
  const onReq = (q) => {
    if (q.method() === 'POST' && q.url().endsWith('/admin/accounts/validate'))
      posts.push(new URLSearchParams(q.postData() ?? ''));
  };
  page.on('request', onReq);
  const urlBefore = page.url();
  await page.click('#bulk-validate');
  const bulkDone = await page.waitForFunction(
    () => /Validated: \d+ of \d+ valid/.test(document.getElementById('flash')?.textContent ?? ''),
    null, { timeout: 30000 }).then(() => true, () => false);
  page.off('request', onReq);
  const prog = await page.$eval('#bulk-progress', (p) => ({ v: p.value, max: p.max, hidden: p.hidden }));
  check('bulk validate: every account valid',
    bulkDone && /Validated: (\d+) of \1 valid/.test(await page.textContent('#flash') ?? ''),
    await page.textContent('#flash'));
  check(`bulk validate: one POST per account (${posts.length} of ${rows}), each with its id and the CSRF token`,
    rows >= 2 && posts.length === rows &&
    posts.every((b) => b.get('id') && /^[0-9a-f]{64}$/.test(b.get('csrf') ?? '')) &&
    new Set(posts.map((b) => b.get('id'))).size === rows, JSON.stringify(posts.map(String)));
  check('bulk validate: the progress bar shown and full, the page not reloaded, '
    + 'every row swapped for its fresh copy and still active',
    !prog.hidden && prog.max === rows && prog.v === rows && page.url() === urlBefore &&
    await page.locator('#accounts tr[data-fp] td.st-active').count() === rows,
    JSON.stringify(prog) + ' ' + page.url());
  // "Delete all upstream chats": a question page first, then the flash.
  resp = await submit(page, `tr[data-fp="${newFp}"] form[action$="/purge"] button`);
  check('purge: the button asks first, on a page of its own',
    resp?.status() === 200 && await page.locator('#purge #purge-yes').count() === 1 &&
    (await page.textContent('#purge') ?? '').includes(newFp), resp?.status());
  resp = await submit(page, '#purge-yes');
  check('purge: confirmed, back on the accounts with the result',
    /Every upstream chat of the account was deleted/.test(await page.textContent('#flash') ?? '') &&
    await page.locator(`tr[data-fp="${newFp}"]`).count() === 1,
    await page.textContent('#flash'));
  resp = await submit(page, `tr[data-fp="${newFp}"] form[action$="/delete"] button`);
  check('delete: the row is gone',
    /deleted/.test(await page.textContent('#flash') ?? '') &&
    await page.locator(`tr[data-fp="${newFp}"]`).count() === 0,
    await page.textContent('#flash'));

  // --- API keys
  resp = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.click('nav a[href$="/admin/keys"]')]).then((x) => x[0]);
  await page.fill('#key-name', 'browser key');
  resp = await submit(page, '#create-btn');
  const newKey = (await page.textContent('#key')) ?? '';
  check('create a key: shown once on the answer', /^sk-/.test(newKey), newKey);
  await shot(page, 'admin-keys.png');
  await page.goto(base + '/admin/keys');
  check('the key is not shown again', !(await page.content()).includes(newKey) &&
    (await page.locator('td.name').allTextContents()).includes('browser key'), 'shown again');

  // --- model mappings and the resolve box
  resp = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.click('nav a[href$="/admin/mappings"]')]).then((x) => x[0]);
  await page.fill('#m-name', 'browser-model');
  await page.fill('#m-target', 'DeepSeek-V3.2');
  await page.selectOption('#m-provider', 'deepseek');
  resp = await submit(page, '#add-btn');
  check('add a mapping through the form',
    /Mapping added/.test(await page.textContent('#flash') ?? '') &&
    (await page.locator('td.name').allTextContents()).includes('browser-model'),
    await page.textContent('#flash'));
  await page.fill('#model', 'browser-model');
  resp = await submit(page, '#resolve-btn');
  check('where does it go: deepseek, via the mapping',
    (await page.textContent('#resolved td.provider')) === 'deepseek' &&
    (await page.textContent('#resolved td.via')) === 'mapping',
    await page.textContent('#resolved'));
  await shot(page, 'admin-mappings.png');

  // --- logs: filter, detail
  resp = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.click('nav a[href$="/admin/logs"]')]).then((x) => x[0]);
  const all = await page.locator('#log tr[data-id]').count();
  await page.selectOption('#l-provider', 'chatgpt');
  resp = await submit(page, '#filter-btn');
  const pv = await page.locator('#log td.provider').allTextContents();
  check('the log filtered by provider in the browser',
    all > 0 && pv.length > 0 && pv.length < all && pv.every((x) => x === 'chatgpt'),
    `${all} ${JSON.stringify(pv)}`);
  await shot(page, 'admin-logs.png');
  resp = await submit(page, '#log a.detail');
  check('the detail view opens', await page.isVisible('#entry'), page.url());
  await shot(page, 'admin-log-entry.png');

  // --- sessions and settings
  resp = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.click('nav a[href$="/admin/sessions"]')]).then((x) => x[0]);
  check('the sessions page', resp.status() === 200 && await page.isVisible('#sessions'),
    resp.status());
  await shot(page, 'admin-sessions.png');
  resp = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.click('nav a[href$="/admin/settings"]')]).then((x) => x[0]);
  check('the settings page hides the codes',
    resp.status() === 200 && !(await page.content()).includes(code) &&
    (await page.textContent('tr[data-name="AUTHORIZATION"] td.value')) === '(set, hidden)',
    resp.status());
  await shot(page, 'admin-settings.png');

  resp = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }),
    page.click('nav a[href$="/tokens"]')]).then((x) => x[0]);
  check('the navigation reaches the ChatGPT pool page with the same session',
    resp.status() === 200 && !await page.isVisible('#login-form'), resp.status());
  await shot(page, 'admin-tokens.png');

  await page.goto(base + '/admin');
  resp = await submit(page, '#logout button');
  check('logout lands on the login form',
    new URL(page.url()).pathname === '/admin' && await page.isVisible('#login-form'),
    page.url());
  check('no console error (no CSP violation) on any page', consoleErrors.length === 0,
    consoleErrors.join(' | '));
  check('no request left this server', offsite.length === 0, offsite.join(' '));
  out({ done: true });
} catch (e) {
  check('browser run', false, e && e.stack ? e.stack : String(e));
} finally {
  if (ctx) await ctx.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
