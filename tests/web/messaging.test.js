// Module messaging through its real pages (modules/messaging/web/): a member
// writes to a service with a PDF attached and a body carrying <script>
// (shown as text, never run); an agent enrolled through the pages reads it
// in the back-office inbox (the member's read receipt) and answers with a
// canned answer; the member sees the notification and the unread answer,
// opens it, and the agent sees it was read. axe at desktop size and at
// 375x812 on the member's and the agent's pages.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkPage, newContext, useStack, watch } from './lib/browser.js';
import { enterTotp, newMember, signInPassword } from './lib/flows.js';
import { WebStack } from './lib/stack.js';
import { TotpDevice } from './lib/totp.js';

const stack = new WebStack('messaging');
let browser;
useStack(stack, (b) => { browser = b; });

// An agent made with portailctl, enrolled and signed in through the pages:
// its page (on /backoffice/recherche.html) and context.
async function agentSignedIn(login, name, role, agentPassword) {
  const { stdout } = await stack.portailctl('agent', 'add', login, '--name', name, '--role', role);
  const enrol = new URL(stdout.match(/https?:\/\/\S+\/backoffice\/enrolement\.html\?token=\S+/)[0]);
  const actx = await newContext(browser, stack);
  const apage = watch(await actx.newPage());
  await apage.goto(enrol.pathname + enrol.search);
  await apage.fill('#password', agentPassword);
  await apage.fill('#password_confirmation', agentPassword);
  await apage.click('#formulaire-mdp button[type=submit]');
  await apage.locator('#secret:not(:empty)').waitFor();
  const agentDevice = new TotpDevice((await apage.locator('#secret').textContent()).replace(/\s+/g, ''));
  await apage.fill('#code', await agentDevice.code());
  await apage.click('#formulaire-code button[type=submit]');
  await apage.locator('#etape-fin').waitFor();
  await Promise.all([apage.waitForURL('**/backoffice/'), apage.click('#etape-fin a')]);
  await apage.fill('#login', login);
  await apage.fill('#password', agentPassword);
  await Promise.all([apage.waitForURL('**/backoffice/code.html'), apage.click('#formulaire button[type=submit]')]);
  await apage.fill('#code', await agentDevice.code());
  await Promise.all([apage.waitForURL('**/backoffice/recherche.html'), apage.click('#formulaire button[type=submit]')]);
  return { apage, actx };
}

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

    // An agent, enrolled through the pages, answers from the back office.
    const { apage, actx } = await agentSignedIn('cmessage', 'Claire Message', 'agent', 'Les archives du quai ferment à dix-huit heures');
    // In the team of the service written to (agents see their teams' threads only).
    await stack.sql(`INSERT INTO messaging_agent_teams (agent_id, team) SELECT id, 'remboursements' FROM agents WHERE login = 'cmessage'`);
    for (const [size, viewport] of [['bureau', { width: 1280, height: 900 }], ['mobile', { width: 375, height: 812 }]]) {
      await apage.setViewportSize(viewport);
      await apage.goto('/messaging/agent.html');
      await apage.locator(`#conversations tr[data-id="${thread}"]`).waitFor();
      await checkPage(apage, 'messaging', `agent-boite-${size}`);
    }
    // The teams are the supervisors'.
    assert.equal(await apage.locator('#equipes').isHidden(), true);
    await apage.click(`#conversations tr[data-id="${thread}"] a`);
    await apage.locator('#messages .portail-message__corps').first().waitFor();
    assert.equal((await apage.locator('#messages .portail-message__corps').first().textContent()).replace(/\r\n/g, '\n'), BODY);
    assert.equal(await apage.evaluate(() => window.__pirate), undefined);
    await checkPage(apage, 'messaging', 'agent-conversation');
    await apage.selectOption('#modele', '0');
    assert.match(await apage.inputValue('#body'), /remboursement/);
    await apage.fill('#body', 'Bien reçu, le remboursement est en cours.');
    await apage.click('#reponse button[type=submit]');
    await apage.locator('.portail-message--caisse', { hasText: 'le remboursement est en cours' }).waitFor();
    assert.match(await apage.locator('.portail-message--caisse').textContent(), /Pas encore lu par l’assuré/);

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
    // The unfiltered list holds the match too: wait for the search's answer
    // to replace it, not for the match to be there.
    await page.waitForFunction(() => document.querySelectorAll('#conversations li[data-id]').length === 1, null, { timeout: 10000 }).catch(() => {});
    await page.locator('#conversations li[data-id]', { hasText: 'Ma feuille de soins mobile' }).waitFor();
    assert.equal(await page.locator('#conversations li[data-id]').count(), 1);

    await page.click(`#conversations li[data-id="${thread}"] a`);
    await page.locator('.portail-message--caisse', { hasText: 'le remboursement est en cours' }).waitFor();
    assert.match(await page.locator('#messages').textContent(), /Lu par votre caisse le/);
    // The header's GET /portal draws the bell, apart from the thread's request.
    await page.locator('#cloche[data-unread]').waitFor({ state: 'attached' });
    assert.equal(await page.locator('#cloche').getAttribute('data-unread'), '1');
    const unread = await stack.sql(`SELECT COUNT(*) FROM messaging_messages WHERE thread_id = ${thread} AND author = 'agent' AND read_at IS NULL`);
    assert.equal(unread[0][0], '0');
    // The agent sees that the member read the answer.
    await apage.reload();
    await apage.locator('.portail-message--caisse', { hasText: /Lu par l’assuré le/ }).waitFor();
    await actx.close();
    await ctx.close();
  });

  test('a supervisor adds an agent to a team and removes them (issue 13)', async (t) => {
    const why = stack.missing('login', 'messaging');
    if (why) return t.skip(why);
    await stack.portailctl('agent', 'add', 'emessage', '--name', 'Étienne Message', '--role', 'agent');
    const { apage, actx } = await agentSignedIn('smessage', 'Sophie Message', 'supervisor', 'Le phare de la digue veille sur les barques du port');
    const member = "SELECT COUNT(*) FROM messaging_agent_teams m JOIN agents a ON a.id = m.agent_id WHERE a.login = 'emessage' AND m.team = 'cartes'";
    const cartes = apage.locator('#liste-equipes [data-team="cartes"]');

    await apage.setViewportSize({ width: 1280, height: 900 });
    await apage.goto('/messaging/agent.html');
    await apage.locator('#equipe option[value="cartes"]').waitFor({ state: 'attached' });
    await checkPage(apage, 'messaging', 'equipes-bureau');
    // An unknown login: the error next to the field.
    await apage.selectOption('#equipe', 'cartes');
    await apage.fill('#identifiant', 'personne');
    await apage.click('#ajout-equipe button[type=submit]');
    await apage.locator('#identifiant-erreur').waitFor();
    assert.match(await apage.locator('#identifiant-erreur').textContent(), /Aucun agent actif/);
    await apage.fill('#identifiant', 'emessage');
    await apage.click('#ajout-equipe button[type=submit]');
    await cartes.locator('li[data-agent]', { hasText: 'emessage' }).waitFor();
    assert.match(await apage.locator('#statut-equipes').textContent(), /Étienne Message fait partie de l’équipe cartes/);
    assert.equal((await stack.sql(member))[0][0], '1');
    await checkPage(apage, 'messaging', 'equipes-ajout-bureau');

    await apage.setViewportSize({ width: 375, height: 812 });
    await apage.reload();
    await cartes.locator('li[data-agent]', { hasText: 'emessage' }).waitFor();
    await checkPage(apage, 'messaging', 'equipes-mobile');
    await cartes.getByRole('button', { name: 'Retirer Étienne Message de l’équipe cartes' }).click();
    await apage.locator('#statut-equipes', { hasText: 'ne fait plus partie' }).waitFor();
    assert.equal(await cartes.locator('li[data-agent]', { hasText: 'emessage' }).count(), 0);
    assert.equal((await stack.sql(member))[0][0], '0');
    await checkPage(apage, 'messaging', 'equipes-retrait-mobile');
    const audit = await stack.sql("SELECT l.action FROM audit_log l JOIN agents a ON a.id = l.agent_id WHERE a.login = 'smessage' AND l.action IN ('messaging.team.add', 'messaging.team.remove') ORDER BY l.id");
    assert.deepEqual(audit.map((r) => r[0]), ['messaging.team.add', 'messaging.team.remove']);
    await actx.close();
  });
});
