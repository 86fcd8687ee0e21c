// Reimbursements end to end on the real stack (issue 10): a member sends a
// request with two documents through the form; an agent, enrolled and
// signed in through the pages, takes it and approves it; the member sees
// the new payment in the list and the notification.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newContext, useStack, watch } from './lib/browser.js';
import { enterTotp, newMember, signInPassword } from './lib/flows.js';
import { WebStack } from './lib/stack.js';
import { TotpDevice } from './lib/totp.js';

const stack = new WebStack('reimbursements-flow');
let browser;
useStack(stack, (b) => { browser = b; });

const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');

describe('reimbursements flow', () => {
  test('request with two documents → agent approves → the member sees the payment and the notification', async (t) => {
    const why = stack.missing('login', 'reimbursements');
    if (why) return t.skip(why);
    const m = await newMember(browser, stack, newContext, { first: 'Inès', last: 'Garnier', birthDate: '1988-06-02', clientIp: '2.2.2.2' });
    const mctx = await newContext(browser, stack, { clientIp: '2.2.2.2' });
    const mpage = watch(await mctx.newPage());
    assert.equal(await signInPassword(mpage, m.person, m.password), '/code-de-securite.html');
    await enterTotp(mpage, m.device);

    await mpage.goto('/reimbursements/demande.html');
    await mpage.locator('#formulaire').waitFor();
    const day = new Date(Date.now() - 5 * 86400e3).toISOString().slice(0, 10);
    await mpage.selectOption('#kind', 'dentist');
    await mpage.fill('#care_date', day);
    await mpage.fill('#amount', '80,00');
    await mpage.locator('#beneficiary option[value="me"]').waitFor({ state: 'attached' });
    await mpage.selectOption('#beneficiary', 'me');
    await mpage.setInputFiles('#documents', [
      { name: 'feuille.pdf', mimeType: 'application/pdf', buffer: PDF },
      { name: 'facture.pdf', mimeType: 'application/pdf', buffer: PDF },
    ]);
    await mpage.click('#formulaire button[type=submit]');
    const ok = await mpage.locator('#statut .fr-alert--success').textContent();
    const id = Number(ok.match(/n° (\d+)/)[1]);

    const { stdout } = await stack.portailctl('agent', 'add', 'cmartin', '--name', 'Claire Martin', '--role', 'agent');
    const enrol = new URL(stdout.match(/https?:\/\/\S+\/backoffice\/enrolement\.html\?token=\S+/)[0]);
    const actx = await newContext(browser, stack, { clientIp: '2.2.2.2' });
    const apage = watch(await actx.newPage());
    await apage.goto(enrol.pathname + enrol.search);
    await apage.locator('#password').waitFor();
    const agentPassword = 'Les dossiers du guichet ferment à dix-sept heures';
    await apage.fill('#password', agentPassword);
    await apage.fill('#password_confirmation', agentPassword);
    await apage.click('#formulaire-mdp button[type=submit]');
    await apage.locator('#secret:not(:empty)').waitFor();
    const device = new TotpDevice((await apage.locator('#secret').textContent()).replace(/\s+/g, ''));
    await apage.fill('#code', await device.code());
    await apage.click('#formulaire-code button[type=submit]');
    await apage.locator('#etape-fin').waitFor();
    await Promise.all([apage.waitForURL('**/backoffice/'), apage.click('#etape-fin a')]);
    await apage.locator('#login').waitFor();
    await apage.fill('#login', 'cmartin');
    await apage.fill('#password', agentPassword);
    await Promise.all([apage.waitForURL('**/backoffice/code.html'), apage.click('#formulaire button[type=submit]')]);
    await apage.locator('#code').waitFor();
    await apage.fill('#code', await device.code());
    await Promise.all([apage.waitForURL('**/backoffice/recherche.html'), apage.click('#formulaire button[type=submit]')]);

    await apage.goto('/reimbursements/bo-file.html');
    await apage.locator('#file a', { hasText: `Demande ${id}` }).click();
    await apage.locator('#demande:not([hidden])').waitFor();
    assert.equal(await apage.locator('#documents a').count(), 2);
    await apage.click('#prendre');
    await apage.locator('#decisions:not([hidden])').waitFor();
    await apage.fill('#base_cents', '2892');
    await apage.click('#accepter button[type=submit]');
    await apage.locator('#statut .fr-alert--success', { hasText: 'Acceptée' }).waitFor();

    await mpage.goto('/reimbursements/');
    await mpage.locator('#lignes td', { hasText: 'Demande de remboursement en ligne' }).waitFor();
    assert.match(await mpage.locator('#lignes').textContent(), /20,24\s€/);
    await mpage.goto('/notifications.html');
    await mpage.getByText('Demande de remboursement acceptée').first().waitFor();
    await actx.close();
    await mctx.close();
  });
});
