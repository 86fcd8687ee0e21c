// The sign-in page under a flood: nginx answers 503 + Retry-After (its bound
// on the sign-ins in flight from one address, limit_conn) and the page tries
// again by itself, saying so in its aria-live region, at most 3 times, then
// shows the error. Real stack (login module, nginx from the template): the
// 503 is provoked by holding nginx's 8 places of the page's address with
// requests whose body never comes, not by a mock of the page's fetch.
// Desktop and 375x812, axe on each state.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { SIZES, checkPage, newContext, useStack, watch } from './lib/browser.js';
import { enterTotp, newMember } from './lib/flows.js';
import { WebStack } from './lib/stack.js';
import { formatNir } from './lib/util.js';

const stack = new WebStack('signin-busy');
let browser;
// nginx/portail.conf.in: limit_conn portail_signin_ip 8.
const PER_ADDRESS = 8;

useStack(stack, (b) => { browser = b; });

/** A POST to /api/v1/login from clientIp whose headers are sent and whose
 * body is not: nginx counts it as a sign-in in flight until it is closed.
 * `answered` is set if nginx answers it (refused: it was the ninth). */
async function holdOne(clientIp) {
  const { hostname, port } = new URL(stack.baseUrl);
  const s = connect({ host: hostname, port: Number(port) });
  s.on('error', () => {});
  await new Promise((res, rej) => { s.once('connect', res); s.once('error', rej); });
  s.answered = false;
  s.on('data', () => { s.answered = true; });
  s.write(`POST /api/v1/login HTTP/1.1\r\nHost: ${hostname}:${port}\r\nX-Forwarded-For: ${clientIp}\r\n`
    + `Origin: ${stack.info.origin}\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n`);
  return s;
}

/** PER_ADDRESS held sign-ins from clientIp. Resolves once nginx holds them
 * all (the next one from that address is refused); release() closes them. */
async function holdSignIns(clientIp) {
  const sockets = [];
  for (let i = 0; i < PER_ADDRESS; i++) sockets.push(await holdOne(clientIp));
  // nginx may read a probe before the last held request (two workers, a
  // loaded machine): that one is then the ninth, answered 503 at once, and
  // every later probe passes. It is replaced, and nginx reads the
  // replacement before the next probe.
  const replaceAnswered = async () => {
    let replaced = false;
    for (let i = 0; i < sockets.length; i++) {
      if (sockets[i].answered) {
        sockets[i].destroy();
        sockets[i] = await holdOne(clientIp);
        replaced = true;
      }
    }
    return replaced;
  };
  if (!await probeUntil(clientIp, (st) => st === 503, replaceAnswered)) {
    sockets.forEach((s) => s.destroy());
    throw new Error('nginx did not count the held sign-ins');
  }
  return {
    // Until nginx has let them go (an empty body reaches portaild: 422).
    release: async () => {
      sockets.forEach((s) => s.destroy());
      assert.ok(await probeUntil(clientIp, (st) => st !== 503), 'nginx let the held sign-ins go');
    },
  };
}

// 10 s at most: on a loaded machine (the whole suite beside a cluster run)
// nginx took longer than 5 s to count the held requests. `before` runs
// before each probe; a true answer skips that probe.
async function probeUntil(clientIp, pred, before = async () => false) {
  for (let i = 0; i < 100; i++) {
    if (!await before()) {
      const r = await fetch(`${stack.baseUrl}/api/v1/login`, {
        method: 'POST',
        headers: { 'X-Forwarded-For': clientIp, 'Content-Type': 'application/json', Origin: stack.info.origin },
        body: '{}',
      });
      await r.arrayBuffer();
      if (pred(r.status)) return true;
    }
    await new Promise((res) => { setTimeout(res, 100); });
  }
  return false;
}

describe('sign-in page retries after 503 + Retry-After', () => {
  for (const [size, viewport] of SIZES) {
    test(`${size}: the wait said, retried, the error after 3; then retried into the second factor`, async (t) => {
      const why = stack.missing('login');
      if (why) return t.skip(why);
      const clientIp = size === 'bureau' ? '2.2.2.31' : '2.2.2.32';
      const m = await newMember(browser, stack, newContext, { clientIp, first: 'Inès', last: 'Marchand', birthDate: '1988-02-11', sex: 2 });
      const ctx = await newContext(browser, stack, { clientIp });
      const page = watch(await ctx.newPage());
      await page.setViewportSize(viewport);
      const suite = `signin-busy-${size}`;
      const posts = [];
      page.on('response', (r) => {
        if (new URL(r.url()).pathname === '/api/v1/login' && r.request().method() === 'POST') posts.push(r.status());
      });
      await page.goto('/connexion.html');
      await page.fill('#nir', formatNir(m.person.nir));
      await page.fill('#password', m.password);

      // Held for good: 1 + 3 attempts, the wait said each time, then the error.
      let hold = await holdSignIns(clientIp);
      await page.click('#formulaire button[type=submit]');
      const retry = page.locator('#statut .portail-retry');
      await retry.waitFor();
      assert.match(await retry.textContent(), /Le service est très sollicité, nouvelle tentative dans 1 s…/);
      await checkPage(page, suite, 'nouvelle-tentative');
      const error = page.locator('.portail-error-summary .fr-alert--error');
      await error.waitFor({ timeout: 20000 });
      assert.match(await error.textContent(), /momentanément indisponible.*très sollicité/s);
      assert.deepEqual(posts, [503, 503, 503, 503], 'one attempt and three retries');
      assert.equal(await retry.count(), 0, 'the wait message is gone');
      await checkPage(page, suite, 'abandon');
      await hold.release();

      // Held at the first attempt only: the retry signs in.
      posts.length = 0;
      hold = await holdSignIns(clientIp);
      await page.click('#formulaire button[type=submit]');
      await retry.waitFor();
      await hold.release();
      await page.waitForURL('**/code-de-securite.html', { timeout: 20000 });
      assert.equal(posts[0], 503);
      assert.equal(posts[posts.length - 1], 200);
      await enterTotp(page, m.device, (name) => checkPage(page, suite, name));
      await ctx.close();
    });
  }
});
