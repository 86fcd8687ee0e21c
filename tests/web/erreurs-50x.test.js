// Issue 15: the French 50x pages as nginx really serves them. No page of the
// site goes to portaild, so this test runs a second nginx from the stack's
// own config (same site, same error_page rules) with portaild's socket
// replaced by a dead one, and with test-only page addresses under / and
// under /backoffice/ that need FastCGI: one at the dead socket (502), one at
// a socket that accepts and never answers (504, fastcgi_read_timeout 1s).
// The browser shows the site's 50x page (the agents' under /backoffice/),
// with the status, at both sizes, axe; /api/ keeps answering its JSON
// problem (503, Retry-After) in that state.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SIZES, checkPage, launch, watch } from './lib/browser.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('erreurs-50x');
let browser;
let nginx;
let slow;
let baseUrl;

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function waitFor(url, ms = 15000) {
  for (const end = Date.now() + ms; Date.now() < end && nginx.exitCode === null;) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing answers at ${url}`);
}

/** The stack's nginx.conf for a portaild that is gone, plus the test pages
 * that need FastCGI (nested in "location /" and "location /backoffice/",
 * so they get the site's error_page rules). */
function brokenConf(text, { oldPrefix, prefix, port, dead, silent }) {
  const pages = (dir) => [
    `location = ${dir}panne.html { fastcgi_pass unix:${dead}; }`,
    `location = ${dir}lente.html { fastcgi_pass unix:${silent}; fastcgi_read_timeout 1s; }`,
  ].join('\n');
  let out = text.split(oldPrefix).join(prefix);
  out = out.replace(/listen 127\.0\.0\.1:\d+;/, `listen 127.0.0.1:${port};`);
  out = out.replace(/upstream portaild \{\s*server unix:[^;]+;/, `upstream portaild {\n        server unix:${dead};`);
  const site = out.indexOf('        location / {\n');
  const bo = out.indexOf('            location /backoffice/ {\n', site);
  assert.ok(site > 0 && bo > site, 'the site and back-office locations of nginx/portail.conf.in');
  const boEnd = bo + '            location /backoffice/ {\n'.length;
  out = `${out.slice(0, boEnd)}${pages('/backoffice/essai-')}\n${out.slice(boEnd)}`;
  const siteEnd = site + '        location / {\n'.length;
  return `${out.slice(0, siteEnd)}${pages('/essai-')}\n${out.slice(siteEnd)}`;
}

before(async () => {
  await stack.start();
  const oldPrefix = stack.info.nginx_prefix;
  const prefix = join(stack.dir, 'nginx-50x');
  for (const d of ['logs', 'tmp']) mkdirSync(join(prefix, d), { recursive: true });
  copyFileSync(join(oldPrefix, 'backoffice-acl.conf'), join(prefix, 'backoffice-acl.conf'));
  const silent = join(prefix, 'muet.sock');
  slow = createServer(() => {}); // accepts, reads nothing, answers nothing
  await new Promise((res) => slow.listen(silent, res));
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, brokenConf(readFileSync(join(oldPrefix, 'nginx.conf'), 'utf8'),
    { oldPrefix, prefix, port, dead: join(prefix, 'portaild-absent.sock'), silent }));
  nginx = spawn('nginx', ['-c', conf, '-p', prefix, '-g', 'daemon off;'], { stdio: 'inherit' });
  baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(`${baseUrl}/`);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (nginx && nginx.exitCode === null) {
    const gone = new Promise((res) => nginx.once('exit', res));
    nginx.kill('SIGTERM');
    await gone;
  }
  slow?.close();
  await stack.stopAndCheck();
});

const CASES = [
  ['/essai-panne.html', 502, 'site'],
  ['/essai-lente.html', 504, 'site'],
  ['/backoffice/essai-panne.html', 502, 'agents'],
  ['/backoffice/essai-lente.html', 504, 'agents'],
];

describe('50x pages served by nginx for a page whose backend is gone', () => {
  for (const [size, viewport] of SIZES) {
    for (const [path, status, space] of CASES) {
      test(`${path}: ${status}, the ${space}' French page (${size})`, async () => {
        const ctx = await browser.newContext({ baseURL: baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
        const page = watch(await ctx.newPage());
        try {
          const r = await page.goto(path);
          assert.equal(r.status(), status);
          assert.match(r.headers()['content-type'], /^text\/html/);
          assert.equal(await page.locator('h1').textContent(), 'Service momentanément indisponible');
          assert.equal((await page.locator('main p').first().textContent()).trim(), `Erreur ${status}`);
          const main = await page.locator('main').textContent();
          if (space === 'agents') {
            assert.match(main, /L’espace agents rencontre un problème/);
            assert.equal(await page.locator('main a[href="/backoffice/"]').count(), 1);
            assert.equal(await page.locator('a[href="/inscription/"], a[href="/tableau-de-bord.html"]').count(), 0);
          } else {
            assert.match(main, /Vos informations ne sont pas perdues/);
            assert.equal(await page.locator('main a[href="/"]').count(), 1);
          }
          // The page's own status is what the test asked for; its files load.
          assert.deepEqual(page.problems, [`${status} for ${path}`]);
          page.problems.length = 0;
          await checkPage(page, 'erreurs-50x', `${space}-${status}-${size}`);
        } finally {
          await ctx.close();
        }
      });
    }
  }

  test('/api/ still answers its JSON problem, not the page', async () => {
    for (const path of ['/api/v1/health', '/api/v1/login', '/api/v1/backoffice/me']) {
      const r = await fetch(`${baseUrl}${path}`);
      assert.equal(r.status, 503, path);
      assert.match(r.headers.get('content-type'), /^application\/problem\+json/, path);
      assert.equal(r.headers.get('retry-after'), '5', path);
      const body = await r.json();
      assert.equal(body.status, 503);
      assert.equal(body.title, 'Service momentanément indisponible');
    }
  });
});
