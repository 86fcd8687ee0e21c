// The weight of the home page (issue 15, docs/performance.md "Pages"):
// every byte the browser receives for it (headers and bodies as sent, from
// Chromium's network events: Network.loadingFinished's encodedDataLength),
// cold (a new context: empty cache) and warm (a reload in the same
// context), at a desktop and a 375x812 phone viewport. Targets: 250 KB cold,
// 20 KB warm. Also that the lighter DSFR still styles and runs the page
// (the stylesheet and script under /v/VERSION/, the phone menu opens), with
// axe and a screenshot. The figures: ARTIFACTS/weight.json.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkPage, launch, watch } from './lib/browser.js';
import { ARTIFACTS, WebStack } from './lib/stack.js';

const stack = new WebStack('weight');
let browser;
const figures = {};

before(async () => {
  await stack.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  writeFileSync(join(ARTIFACTS, 'weight.json'), `${JSON.stringify(figures, null, 2)}\n`);
  await stack.stopAndCheck();
});

const VIEWPORTS = [['bureau', { width: 1280, height: 900 }], ['mobile', { width: 375, height: 812 }]];
const KB = 1024;
const COLD_MAX = 250 * KB;
const WARM_MAX = 20 * KB;

/** Counts what the network brings to the page until told to stop: bytes
 * as transferred (headers included), per URL, and the answers served from
 * the cache without a request. */
async function meter(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map();
  const got = [];
  const cached = new Set();
  cdp.on('Network.requestServedFromCache', (e) => cached.add(e.requestId));
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, {
    url: e.response.url,
    status: e.response.status,
    encoding: e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '',
    cache: e.response.fromDiskCache || e.response.fromMemoryCache || false,
  }));
  cdp.on('Network.loadingFinished', (e) => {
    const r = urls.get(e.requestId);
    if (r && /^https?:/.test(r.url)) got.push({ ...r, cache: r.cache || cached.has(e.requestId), bytes: e.encodedDataLength });
  });
  return {
    total: () => got.reduce((s, r) => s + r.bytes, 0),
    got,
    detach: () => cdp.detach().catch(() => {}),
  };
}

const settle = async (page) => {
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => document.fonts && document.fonts.ready);
  await page.waitForLoadState('networkidle');
};

const table = (rows) => rows.map((r) => `  ${String(r.bytes).padStart(7)} ${r.status} ${r.cache ? 'cache' : r.encoding || '-'} ${new URL(r.url).pathname}`).join('\n');

describe('weight of the home page', () => {
  for (const [name, viewport] of VIEWPORTS) {
    test(`${name}: ≤ 250 KB cold, ≤ 20 KB warm`, async () => {
      const ctx = await browser.newContext({ baseURL: stack.baseUrl, locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport });
      try {
        const page = watch(await ctx.newPage());
        const m = await meter(page);
        await page.goto('/');
        await settle(page);
        const cold = m.total();
        const coldRows = [...m.got];

        // What is heavy comes compressed, and the stylesheets and the DSFR
        // script from their versioned address.
        for (const r of coldRows) {
          const path = new URL(r.url).pathname;
          if (/\.(css|js|svg)$/.test(path) && r.bytes > 2 * KB) assert.equal(r.encoding, 'gzip', `${path} compressed`);
        }
        const css = coldRows.filter((r) => /\.css$/.test(new URL(r.url).pathname));
        assert.ok(css.length >= 2, table(coldRows));
        for (const r of css) assert.match(new URL(r.url).pathname, /^\/v\/[0-9a-f]{12}\//, 'stylesheet versioned');
        assert.ok(coldRows.some((r) => /^\/v\/[0-9a-f]{12}\/dsfr\/dsfr\.module\.min\.js$/.test(new URL(r.url).pathname)), table(coldRows));

        // The DSFR subset still styles the page (core: the container's
        // width; components: the footer's blue rule) and runs (data-fr-js).
        const look = await page.evaluate(() => ({
          js: document.documentElement.getAttribute('data-fr-js'),
          footer: getComputedStyle(document.querySelector('.fr-footer')).boxShadow,
          container: getComputedStyle(document.querySelector('main.fr-container')).paddingLeft,
        }));
        assert.equal(look.js, 'true', 'the DSFR script runs');
        assert.match(look.footer, /rgb\(0, 0, 145\)/, 'the footer is styled');
        assert.notEqual(look.container, '0px', 'the container is styled');
        if (viewport.width < 600) {
          // The header's menu (header, modal and navigation scripts).
          await page.locator('#menu-bouton').click();
          await page.locator('#menu-modal.fr-modal--opened').waitFor();
          await page.locator('#menu-modal .fr-btn--close').click();
          await page.locator('#menu-modal.fr-modal--opened').waitFor({ state: 'detached' });
        }
        await checkPage(page, 'weight', `${name}-accueil`);

        m.got.length = 0;
        await page.reload();
        await settle(page);
        const warm = m.total();
        const warmRows = [...m.got];
        await m.detach();

        figures[name] = {
          viewport,
          cold_bytes: cold,
          cold_requests: coldRows.filter((r) => !r.cache).length,
          warm_bytes: warm,
          warm_requests: warmRows.filter((r) => !r.cache).length,
          cold: coldRows.map((r) => ({ path: new URL(r.url).pathname, status: r.status, encoding: r.encoding, cache: r.cache, bytes: r.bytes })),
          warm: warmRows.map((r) => ({ path: new URL(r.url).pathname, status: r.status, encoding: r.encoding, cache: r.cache, bytes: r.bytes })),
        };
        const asked = (rows) => rows.filter((r) => !r.cache).length;
        console.log(`# ${name}: cold ${(cold / KB).toFixed(1)} KB in ${asked(coldRows)} requests, warm ${(warm / KB).toFixed(1)} KB in ${asked(warmRows)} requests (${warmRows.length - asked(warmRows)} from the cache)`);
        assert.ok(cold <= COLD_MAX, `cold: ${cold} bytes > ${COLD_MAX}\n${table(coldRows)}`);
        assert.ok(warm <= WARM_MAX, `warm: ${warm} bytes > ${WARM_MAX}\n${table(warmRows)}`);
        // Warm, the versioned files come from the cache without a request.
        for (const r of warmRows.filter((x) => /^\/v\//.test(new URL(x.url).pathname))) {
          assert.ok(r.cache && r.bytes === 0, `${r.url} fetched again (${r.status}, ${r.bytes} bytes)`);
        }
        assert.ok(warm < cold / 4, `warm ${warm} vs cold ${cold}`);
      } finally {
        await ctx.close();
      }
    });
  }
});
