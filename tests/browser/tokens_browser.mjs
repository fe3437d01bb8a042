// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// against the /tokens page, as a person would use it: log in, upload, watch
// the counts change, reset errors, clear, log out.  On the way it checks that
// a token carrying <script> never runs or shows, that a form without its
// CSRF token and a cross-site form are refused, and that the page raises no
// console error (a CSP violation would), and it saves a screenshot.
//
// usage: node tokens_browser.mjs BASE_URL CODE SCREENSHOT [ERROR_FP]
// Prints one JSON object per line: {"check","ok","detail"}, then {"done":true}.
// tests/integration/test_tokens.py turns them into test results.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, code, shot, errorFp] = process.argv.slice(2);
const XSS = '<script>window.__xss=1</script>';
const TOKENS = ['eyJbrowser.token.one', 'rt-browser-two', XSS];

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}
function check(name, ok, detail) {
  out({ check: name, ok: !!ok, detail: ok ? undefined : String(detail ?? '') });
  return !!ok;
}
function fp(s) {
  return crypto.createHash('sha256').update(s).digest('hex').slice(0, 12);
}
async function count(page, id) {
  const t = await page.textContent('#count-' + id);
  return Number.parseInt(t ?? 'NaN', 10);
}
// Submit with a click and wait for the page the form ends on.
async function submit(page, selector) {
  const [resp] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(selector),
  ]);
  return resp;
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'c2a-chromium-'));
let ctx;
try {
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
  });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  page.setDefaultTimeout(15000);
  const consoleErrors = [];
  const dialogs = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });

  // --- login page
  let resp = await page.goto(base + '/tokens');
  check('GET /tokens without a session shows the login form',
    resp.status() === 200 && await page.isVisible('#login-form'), resp.status());
  const h = resp.headers();
  check('page headers: CSP, no framing, no caching, no referrer',
    /default-src 'none'/.test(h['content-security-policy'] ?? '') &&
    /form-action 'self'/.test(h['content-security-policy'] ?? '') &&
    h['x-frame-options'] === 'DENY' && h['cache-control'] === 'no-store' &&
    h['referrer-policy'] === 'no-referrer', JSON.stringify(h));

  await page.fill('#code', 'not-the-code');
  resp = await submit(page, '#login-btn');
  check('a wrong code is refused (401) and says so',
    resp.status() === 401 && /Wrong code/.test(await page.textContent('#flash') ?? ''),
    resp.status());

  await page.fill('#code', code);
  resp = await submit(page, '#login-btn');
  check('login lands on the tokens page', resp.status() === 200 &&
    page.url().endsWith('/tokens?m=login') && await page.isVisible('#summary'),
    page.url() + ' ' + resp.status());
  const cookies = await ctx.cookies(base);
  const sess = cookies.find((c) => c.name === 'c2a_admin');
  check('session cookie is HttpOnly, SameSite=Strict, Path=/, about 12 h',
    sess && sess.httpOnly && sess.sameSite === 'Strict' && sess.path === '/' &&
    sess.expires - Date.now() / 1000 > 11 * 3600 &&
    sess.expires - Date.now() / 1000 <= 12 * 3600 + 60, JSON.stringify(cookies));
  check('scripts cannot read the session cookie',
    (await page.evaluate(() => document.cookie)) === '', 'document.cookie not empty');

  // --- the error list the test driver prepared
  if (errorFp) {
    const errText = await page.textContent('#errors');
    check('error list shows the failing token by fingerprint, kind and reason',
      errText.includes(errorFp) && /access_token/.test(errText) && /401/.test(errText),
      errText.slice(0, 300));
  }

  // --- upload
  const active0 = await count(page, 'active');
  const total0 = await count(page, 'total');
  await page.fill('#text', TOKENS.join('\n') + '\n# a comment\n<img src=x onerror=alert(1)>\n');
  resp = await submit(page, '#upload-btn');
  const flash = await page.textContent('#flash');
  check('upload redirects back with a flash message',
    resp.status() === 200 && /3 added, 0 already in the pool, 1 skipped/.test(flash ?? ''),
    flash);
  check('the active count went up by 3', await count(page, 'active') === active0 + 3,
    `${active0} -> ${await count(page, 'active')}`);
  check('the total count went up by 3', await count(page, 'total') === total0 + 3,
    `${total0} -> ${await count(page, 'total')}`);
  const pool = await page.textContent('#pool-list');
  check('each uploaded token is listed by its fingerprint',
    TOKENS.every((t) => pool.includes(fp(t))), pool.slice(0, 400));
  const kinds = await page.textContent('#by-kind');
  check('kinds are detected (access, refresh, other)',
    /access_token/.test(kinds) && /refresh_token/.test(kinds) && /other/.test(kinds), kinds);

  // --- the <script> token
  const html = await page.content();
  const body = await page.textContent('body');
  check('the <script> token did not run', dialogs.length === 0 &&
    (await page.evaluate(() => window.__xss)) === undefined, dialogs.join('; '));
  check('the page has no script element at all',
    (await page.evaluate(() => document.scripts.length)) === 0, 'scripts found');
  check('no secret is on the page, escaped or not',
    TOKENS.every((t) => !body.includes(t) && !html.includes(t)) &&
    !html.includes('&lt;script&gt;window'), 'a token appears in the page');
  check('the <script> token is shown as its (escaped-safe) fingerprint only',
    pool.includes(fp(XSS)), fp(XSS));

  // --- duplicates
  await page.fill('#text', TOKENS.join('\r\n'));
  await submit(page, '#upload-btn');
  check('uploading the same tokens again adds none',
    /0 added, 3 already in the pool/.test(await page.textContent('#flash') ?? '') &&
    await count(page, 'total') === total0 + 3, await page.textContent('#flash'));

  await page.screenshot({ path: shot, fullPage: true });
  check('screenshot saved', fs.existsSync(shot) && fs.statSync(shot).size > 1000, shot);

  // --- a form without its CSRF token
  const before = await count(page, 'total');
  await page.$eval('#upload-form input[name=csrf]', (el) => el.remove());
  await page.fill('#text', 'eyJno.csrf.token');
  resp = await submit(page, '#upload-btn');
  check('a POST without the CSRF token is refused (403)',
    resp.status() === 403 && await page.isVisible('#refused'), resp.status());
  await page.goto(base + '/tokens');
  check('... and stored nothing', await count(page, 'total') === before,
    await count(page, 'total'));

  // --- a form from another site
  const evil = await ctx.newPage();
  await evil.setContent(`<form method="post" action="${base}/tokens/clear">
    <input type="hidden" name="confirm" value="yes"><button id="go">win</button></form>`);
  const [evilResp] = await Promise.all([
    evil.waitForNavigation({ waitUntil: 'load' }),
    evil.click('#go'),
  ]);
  check('a cross-site form gets no session (login page)',
    evilResp.status() === 200 && await evil.isVisible('#login-form'), evilResp.status());
  await evil.close();
  await page.reload();
  check('... and cleared nothing', await count(page, 'total') === before,
    await count(page, 'total'));

  // --- reset errors
  if (errorFp) {
    const act = await count(page, 'active');
    await submit(page, '#errors-clear-form button');
    check('reset error status puts the failing token back',
      await count(page, 'error') === 0 && await count(page, 'active') === act + 1 &&
      await page.isVisible('#no-errors'), await page.textContent('#summary'));
  }

  // --- clear all, seeds
  await page.check('#clear-confirm');
  await submit(page, '#clear-btn');
  check('clear all empties the pool', await count(page, 'total') === 0 &&
    /Pool cleared/.test(await page.textContent('#flash') ?? '') &&
    await page.isVisible('#pool-empty'), await page.textContent('#summary'));
  await page.check('#seeds-confirm');
  await submit(page, '#seeds-btn');
  check('clear seed tokens answers with its flash',
    /Seed tokens cleared/.test(await page.textContent('#flash') ?? ''),
    await page.textContent('#flash'));

  // The 401 and 403 above were asked for; anything else is a fault.
  const unexpected = consoleErrors.filter((m) =>
    !/^Failed to load resource: the server responded with a status of (401|403)\b/.test(m));
  check('no console errors (CSP violations, script errors)', unexpected.length === 0,
    unexpected.join(' | '));

  // --- logout
  await submit(page, '#logout button');
  check('logout shows the login form again', await page.isVisible('#login-form') &&
    /Logged out/.test(await page.textContent('#flash') ?? ''), page.url());
  await page.goto(base + '/tokens');
  check('... and the session is gone', await page.isVisible('#login-form'), page.url());
} catch (e) {
  check('browser run', false, e && e.stack ? e.stack : e);
} finally {
  if (ctx) await ctx.close().catch(() => {});
  fs.rmSync(userDir, { recursive: true, force: true });
  out({ done: true });
}
