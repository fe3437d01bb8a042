// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// through the gateway against tests/mock/chatgpt_site_mock.py, as a person
// would use it: log in at /login with a seed, the mirrored page loads and
// its script talks to /backend-api/ through the gateway, a conversation
// streams, it shows up in the seed's list; a second seed sees nothing of it
// and gets 404 opening it; when the site refuses its page, our own chat page
// takes over and chats too.  Screenshots of /login, the mirrored page and the
// fallback page are kept.  Any console error (a CSP violation is one) fails.
//
// usage: node gateway_browser.mjs BASE_URL MOCK_URL SEED_A SEED_B ARTIFACT_DIR
// Prints one JSON object per line: {"check","ok","detail"}, {"data":{...}},
// then {"done":true}.  tests/integration/test_gateway.py turns them into
// test results.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, request } from 'playwright-core';

const [base, mock, seedA, seedB, art] = process.argv.slice(2);

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
async function login(page, token) {
  await page.goto(base + '/login');
  await page.fill('#token', token);
  return submit(page, '#login-btn');
}
// A request context of its own: the browser's cookies (ours, for
// 127.0.0.1 whatever the port) must not ride along to the mock.
async function mockConfig(obj) {
  const api = await request.newContext();
  try {
    return (await api.post(mock + '/_mock/config', { data: obj })).status();
  } finally {
    await api.dispose();
  }
}

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'c2a-gw-chromium-'));
let ctx;
try {
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1100, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
  });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  page.setDefaultTimeout(20000);
  const consoleErrors = [];
  const failed = [];
  // An HTTP error status a test asks for is logged too; it is no fault.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of/.test(m.text()))
      consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('requestfailed', (r) => failed.push(r.url() + ' ' + (r.failure()?.errorText ?? '')));
  const offsite = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) offsite.push(r.url()); });

  // --- /login
  let resp = await page.goto(base + '/login');
  check('/login shows the form', resp.status() === 200 &&
    await page.isVisible('#login-form'), resp.status());
  check('/login: CSP without any external source',
    /default-src 'none'/.test(resp.headers()['content-security-policy'] ?? ''),
    JSON.stringify(resp.headers()));
  await page.screenshot({ path: path.join(art, 'gateway-login.png'), fullPage: true });

  // --- seed A logs in: the mirrored page, its script through the gateway
  resp = await login(page, seedA);
  check('login with a seed lands on the mirrored page', resp.status() === 200 &&
    new URL(page.url()).pathname === '/', page.url() + ' ' + resp.status());
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  check('the page script ran: /backend-api/me answered through the gateway',
    await page.textContent('#email') === 'chatgpt@openai.com', await page.textContent('#email'));
  check('the page context holds the seed, not the real AccessToken',
    await page.textContent('#ctx-token') === seedA, await page.textContent('#ctx-token'));
  check("the page context holds no account e-mail for a seed",
    await page.textContent('#ctx-email') === 'chatgpt@openai.com',
    await page.textContent('#ctx-email'));
  const html = await page.content();
  check('the mirrored page names no site host (all rewritten)',
    !/cdn\.oaistatic\.com|https:\/\/chatgpt\.com| integrity=/.test(html), html.slice(0, 400));
  check('the seed starts with an empty list', await page.textContent('#conv-count') === '0',
    await page.textContent('#conv-count'));
  await page.screenshot({ path: path.join(art, 'gateway-mirror.png'), fullPage: true });

  // --- a conversation streams
  await page.fill('#prompt', 'hello from the browser');
  await page.click('#go');
  await page.waitForFunction(() => /^(done|error)/.test(document.getElementById('status')?.textContent ?? ''));
  const reply = await page.textContent('#reply');
  const convId = await page.textContent('#conv-id');
  check('a conversation streamed through the mirror',
    /You said: hello from the browser/.test(reply ?? '') &&
    Number(await page.textContent('#events')) > 3,
    `${await page.textContent('#status')} | ${reply}`);
  check('it is in the seed\'s list', await page.textContent('#conv-count') === '1' &&
    await page.getAttribute('#conv-list li', 'data-id') === convId,
    await page.innerHTML('#conv-list'));
  out({ data: { conv_id: convId } });
  // The body is read too: a fetch still running when the page goes is "failed".
  const fetchStatus = (id) => page.evaluate(async (cid) => {
    const r = await fetch('/backend-api/conversation/' + cid,
      { headers: { Authorization: 'Bearer ' + document.getElementById('ctx-token').textContent } });
    await r.text();
    return r.status;
  }, id);
  const own = await fetchStatus(convId);
  check('the seed opens its own conversation', own === 200, own);

  // --- seed B: nothing of A's
  resp = await page.goto(base + '/auth/logout');
  check('logout lands on /login', new URL(page.url()).pathname === '/login', page.url());
  resp = await login(page, seedB);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  check('a second seed sees an empty list', await page.textContent('#conv-count') === '0',
    await page.innerHTML('#conv-list'));
  const other = await fetchStatus(convId);
  check("the second seed gets 404 for the first one's conversation", other === 404, other);

  // --- the site refuses its page: our own chat page
  check('mock: page refused from now on', await mockConfig({ home_status: 503 }) === 200);
  resp = await page.goto(base + '/');
  await page.waitForSelector('#fallback');
  check('the fallback chat page replaces a refused live page', resp.status() === 200 &&
    /default-src 'none'/.test(resp.headers()['content-security-policy'] ?? ''),
    resp.status());
  await page.fill('#prompt', 'fallback hello');
  await page.press('#prompt', 'Enter');
  await page.waitForSelector('.msg.assistant.done');
  const fbReply = await page.textContent('.msg.assistant.done');
  check('the fallback page chats through the gateway (server-side sentinel)',
    /You said: fallback hello/.test(fbReply ?? ''), fbReply);
  await page.waitForSelector('#convs li button');
  check('the fallback page lists the seed\'s conversation',
    (await page.$$('#convs li button')).length === 1, await page.innerHTML('#convs'));
  await page.screenshot({ path: path.join(art, 'gateway-fallback.png'), fullPage: true });
  await mockConfig({ home_status: 0 });

  check('no console errors (CSP violations included)', consoleErrors.length === 0,
    consoleErrors.join(' | '));
  check('the browser never went to another host', offsite.length === 0, offsite.join(' '));
  check('no request failed', failed.length === 0, failed.join(' '));
  out({ done: true });
} catch (e) {
  check('browser run', false, e && e.stack ? e.stack : e);
} finally {
  if (ctx) await ctx.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
