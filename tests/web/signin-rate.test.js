// The sign-in pages beyond nginx's pace of sign-ins: past the rate and its
// burst, nginx answers 429 + Retry-After: 1 (@rate_limited) and the page
// tries again by itself, saying so in its aria-live region. Real stack with
// server.signin_rate = 1 (a burst of 20, nginx/portail.conf.in): the 429 is
// provoked by a flood of sign-ins from other addresses, not by a mock of
// the page's fetch. Member and agent pages, desktop and 375x812, axe.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SIZES, checkPage, newContext, useStack, watch } from './lib/browser.js';
import { enterTotp, newMember } from './lib/flows.js';
import { WebStack } from './lib/stack.js';
import { formatNir } from './lib/util.js';

const stack = new WebStack('signin-rate', { server: { signin_rate: 1 } });
let browser;
// server.signin_rate = 1: a burst of 20 (portaild --nginx-values). Fewer
// than nginx's 32 sign-ins in flight for every address together.
const FLOOD = 26;
let floodSeq = 0;

useStack(stack, (b) => { browser = b; });

/** FLOOD sign-ins at once, each from its own address; resolves at the
 * first 429 (nginx's burst is full), with `done`: every answer, once the
 * delayed ones are in, and `stop`: until it is called, two more every
 * 150 ms keep the burst full, so that a slow page's first attempt still
 * meets it (a one-shot flood drained by one a second before a loaded
 * machine's click arrived: the whole run of 2026-11-30 19:40 UTC). */
async function fillTheBurst() {
  let refused;
  const first = new Promise((res) => { refused = res; });
  const answers = [];
  const one = () => {
    const n = floodSeq++;
    answers.push(fetch(`${stack.baseUrl}/api/v1/login`, {
      method: 'POST',
      headers: {
        'X-Forwarded-For': `3.3.${n >> 8}.${n & 255}`, 'Content-Type': 'application/json', Origin: stack.info.origin,
      },
      body: '{}',
    }).then(async (r) => {
      await r.arrayBuffer();
      if (r.status === 429) refused();
      return r.status;
    }));
  };
  for (let i = 0; i < FLOOD; i++) one();
  const topUp = setInterval(() => { one(); one(); }, 150);
  await Promise.race([first, Promise.all(answers)]);
  return { done: () => Promise.all(answers), stop: () => clearInterval(topUp) };
}

/** Fills the burst, sends the form, and checks the page's first attempt is
 * refused with 429 and retried with its message said; returns the statuses
 * of the page's POSTs to path so far, and the flood's answers. */
async function sendIntoAFullBurst(page, path, suite) {
  const posts = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === path && r.request().method() === 'POST') posts.push(r.status());
  });
  const flood = await fillTheBurst();
  // The flood stops when the page's first attempt is answered: its retry,
  // a second later, then finds a slot freed.
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === path && r.request().method() === 'POST') flood.stop();
  });
  await page.click('#formulaire button[type=submit]');
  const retry = page.locator('#statut .portail-retry');
  // On a loaded machine the page's first attempt can still land in a slot
  // the pace freed (seen in two whole runs): then nothing here is tested,
  // and the test says so (skipped) rather than failing at random.
  const t0 = Date.now();
  while (!posts.length && Date.now() - t0 < 30000) await page.waitForTimeout(50);
  flood.stop();
  if (posts[0] !== 429) {
    await flood.done();
    return { skipped: `the page’s first attempt was not refused (${posts[0]}): nginx’s burst had room` };
  }
  await retry.waitFor();
  assert.match(await retry.textContent(), /Le service est très sollicité, nouvelle tentative dans 1\ss…/);
  assert.deepEqual(posts, [429], 'the first attempt met nginx’s full burst');
  await checkPage(page, suite, 'nouvelle-tentative');
  const floodStatuses = await flood.done();
  assert.ok(floodStatuses.includes(429), 'the flood filled the burst');
  return { posts, retry };
}

describe('sign-in pages retry after nginx’s 429 + Retry-After', () => {
  for (const [size, viewport] of SIZES) {
    test(`${size}: member sign-in, refused by the pace, retried into the second factor`, async (t) => {
      const why = stack.missing('login');
      if (why) return t.skip(why);
      const clientIp = size === 'bureau' ? '2.2.2.41' : '2.2.2.42';
      const m = await newMember(browser, stack, newContext, { clientIp, first: 'Maëlle', last: 'Girard', birthDate: '1991-06-03', sex: 2 });
      const ctx = await newContext(browser, stack, { clientIp });
      const page = watch(await ctx.newPage());
      await page.setViewportSize(viewport);
      const suite = `signin-rate-${size}`;
      await page.goto('/connexion.html');
      await page.fill('#nir', formatNir(m.person.nir));
      await page.fill('#password', m.password);
      const sent = await sendIntoAFullBurst(page, '/api/v1/login', suite);
      if (sent.skipped) { await ctx.close(); return t.skip(sent.skipped); }
      const { posts, retry } = sent;
      await page.waitForURL('**/code-de-securite.html', { timeout: 30000 });
      assert.equal(posts[0], 429);
      assert.equal(posts[posts.length - 1], 200, 'the retry signed in');
      assert.equal(await retry.count(), 0);
      await enterTotp(page, m.device, (name) => checkPage(page, suite, name));
      await ctx.close();
    });

    test(`${size}: agent sign-in, refused by the pace, retried into the real answer`, async (t) => {
      const ctx = await newContext(browser, stack, { clientIp: size === 'bureau' ? '2.2.2.43' : '2.2.2.44' });
      const page = watch(await ctx.newPage());
      await page.setViewportSize(viewport);
      const suite = `signin-rate-agent-${size}`;
      await page.goto('/backoffice/');
      await page.fill('#login', 'personne');
      await page.fill('#password', 'Pas le bon mot de passe du tout');
      const sent = await sendIntoAFullBurst(page, '/api/v1/backoffice/login', suite);
      if (sent.skipped) { await ctx.close(); return t.skip(sent.skipped); }
      const { posts } = sent;
      const error = page.locator('.portail-error-summary .fr-alert--error');
      await error.waitFor({ timeout: 30000 });
      assert.match(await error.textContent(), /Identification refusée.*Identifiant ou mot de passe incorrect/s);
      // A request of the flood sent just before it stopped can take the one
      // slot the pace frees in that second: the retry is then refused too
      // and the page tries again (at most 3 retries, ui.js retryWhenBusy).
      // Seen once in a whole run (2026-12-01): [429, 429, 401].
      assert.match(posts.join(' '), /^429( 429){0,2} 401$/, 'one to three refusals, then portaild’s answer');
      assert.equal(await page.locator('#statut .portail-retry').count(), 0, 'the wait message is gone');
      await checkPage(page, suite, 'refus');
      await ctx.close();
    });
  }
});
