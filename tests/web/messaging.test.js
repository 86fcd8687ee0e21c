// Module messaging through its real pages (modules/messaging/web/): a member
// writes to a service with a PDF attached and a body carrying <script>
// (shown as text, never run), the fund answers, the member sees the unread
// answer, opens it, and sees the fund's read receipt. axe at desktop size
// and at 375x812 on the inbox, the thread and the new-message form.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkPage, launch, newContext, watch } from './lib/browser.js';
import { enterTotp, newMember, signInPassword } from './lib/flows.js';
import { WebStack } from './lib/stack.js';

const stack = new WebStack('messaging');
let browser;

before(async () => {
  await stack.start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stack.stopAndCheck();
});

const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');
const BODY = 'Bonjour,\n<script>window.__pirate = 1</script><img src=x onerror="window.__pirate=2">\nMerci.';

describe('messaging', () => {
  test('write with an attachment, get an answer, read it, receipts both ways', async (t) => {
    const why = stack.missing('login', 'messaging');
    if (why) return t.skip(why);
    const m = await newMember(browser, stack, newContext, { first: 'Léa', last: 'Morel' });
    const ctx = await newContext(browser, stack);
    const page = watch(await ctx.newPage());
    assert.equal(await signInPassword(page, m.person, m.password), '/code-de-securite.html');
    await enterTotp(page, m.device);

    for (const [size, viewport] of [['bureau', { width: 1280, height: 900 }], ['mobile', { width: 375, height: 812 }]]) {
      await page.setViewportSize(viewport);
      await page.goto('/messaging/new.html');
      await page.locator('#recipient option[value="REMB"]').waitFor({ state: 'attached' });
      await checkPage(page, 'messaging', `nouveau-${size}`);
      await page.selectOption('#recipient', 'REMB');
      await page.fill('#subject', `Ma feuille de soins ${size}`);
      await page.fill('#body', BODY);
      await page.setInputFiles('#fichiers', { name: 'feuille.pdf', mimeType: 'application/pdf', buffer: PDF });
      await Promise.all([page.waitForURL('**/messaging/thread.html?id=*'), page.click('#nouveau button[type=submit]')]);
      await page.locator('#messages .portail-message__corps').first().waitFor();
      // Multipart form data sends the textarea's line breaks as CRLF (HTML spec).
      assert.equal((await page.locator('#messages .portail-message__corps').first().textContent()).replace(/\r\n/g, '\n'), BODY);
      assert.equal(await page.locator('#messages script, #messages img').count(), 0);
      assert.equal(await page.evaluate(() => window.__pirate), undefined);
      await page.locator('#messages a', { hasText: 'feuille.pdf' }).waitFor();
      assert.match(await page.locator('#messages').textContent(), /Pas encore lu par votre caisse/);
      await checkPage(page, 'messaging', `conversation-${size}`);
    }
    const thread = Number(new URL(page.url()).searchParams.get('id'));

    // The fund answers and reads the member's message (as the back office does).
    await stack.sql(`INSERT INTO messaging_messages (thread_id, member_id, author, body)
      SELECT id, member_id, 'agent', 'Bien reçu, le remboursement est en cours.' FROM messaging_threads WHERE id = ${thread};
      UPDATE messaging_threads SET status = 'answered', last_author = 'agent',
        last_message_id = (SELECT MAX(id) FROM messaging_messages WHERE thread_id = ${thread}) WHERE id = ${thread};
      UPDATE messaging_messages SET read_at = UTC_TIMESTAMP() WHERE thread_id = ${thread} AND author = 'member'`);

    for (const [size, viewport] of [['bureau', { width: 1280, height: 900 }], ['mobile', { width: 375, height: 812 }]]) {
      await page.setViewportSize(viewport);
      await page.goto('/messaging/');
      await page.locator('#conversations li[data-id]').first().waitFor();
      if (size === 'bureau') {
        assert.match(await page.locator('#non-lus').textContent(), /1 réponse non lue/);
        assert.match(await page.locator(`#conversations li[data-id="${thread}"]`).textContent(), /1 non lu/);
      }
      await checkPage(page, 'messaging', `boite-${size}`);
    }
    await page.fill('#q', 'mobile');
    await page.click('#recherche button[type=submit]');
    await page.locator('#conversations li[data-id]', { hasText: 'Ma feuille de soins mobile' }).waitFor();
    assert.equal(await page.locator('#conversations li[data-id]').count(), 1);

    await page.click(`#conversations li[data-id="${thread}"] a`);
    await page.locator('.portail-message--caisse', { hasText: 'le remboursement est en cours' }).waitFor();
    assert.match(await page.locator('#messages').textContent(), /Lu par votre caisse le/);
    const unread = await stack.sql(`SELECT COUNT(*) FROM messaging_messages WHERE thread_id = ${thread} AND author = 'agent' AND read_at IS NULL`);
    assert.equal(unread[0][0], '0');
    await ctx.close();
  });
});
