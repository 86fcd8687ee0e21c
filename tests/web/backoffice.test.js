// A suspicious lock (a sign-in from another country) → an agent, created
// with `portailctl agent add` and enrolled through the enrolment page, signs
// in to the back office → finds the member → unlocks with a reason → the
// member signs in. Real login and unlock modules.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { checkPage, newContext, useStack, watch } from './lib/browser.js';
import { enterTotp, newMember, signInPassword } from './lib/flows.js';
import { WebStack } from './lib/stack.js';
import { TotpDevice } from './lib/totp.js';
import { formatNir } from './lib/util.js';

const stack = new WebStack('backoffice');
let browser;
useStack(stack, (b) => { browser = b; });

describe('back office', () => {
  test('suspicious lock → agent enrolment and sign-in → unlock with a reason → the member signs in', async (t) => {
    const why = stack.missing('login', 'unlock');
    if (why) return t.skip(why);
    // A member known in France (2.2.2.2 → FR)...
    const m = await newMember(browser, stack, newContext, { first: 'Hugo', last: 'Petit', birthDate: '1990-02-11', clientIp: '2.2.2.2' });
    const seen = new Set(stack.mails().map((x) => x.file));

    // ...signs in from the United States (8.8.8.8 → US): locked.
    const mctx = await newContext(browser, stack, { clientIp: '8.8.8.8' });
    const mpage = watch(await mctx.newPage());
    assert.equal(await signInPassword(mpage, m.person, m.password), '/compte-bloque.html');
    await mpage.locator('#raison .fr-alert').waitFor();
    assert.match(await mpage.locator('#etapes').textContent(), /36 46/);
    await checkPage(mpage, 'backoffice', 'compte-bloque-suspect');
    await stack.waitForMail((x) => x.to.includes(m.person.email) && /bloqu/i.test(x.subject + x.body), { skip: seen });

    // An agent (supervisor) made with portailctl, enrolled through the page.
    const { stdout } = await stack.portailctl('agent', 'add', 'mleroy', '--name', 'Marie Leroy', '--role', 'supervisor');
    const enrol = new URL(stdout.match(/https?:\/\/\S+\/backoffice\/enrolement\.html\?token=\S+/)[0]);
    const actx = await newContext(browser, stack, { clientIp: '2.2.2.2' });
    const apage = watch(await actx.newPage());
    const check = (name) => checkPage(apage, 'backoffice', name);
    await apage.goto(enrol.pathname + enrol.search);
    await apage.locator('#password').waitFor();
    await check('enrolement');
    const agentPassword = 'Les archives du quai ferment à dix-huit heures';
    await apage.fill('#password', agentPassword);
    await apage.fill('#password_confirmation', agentPassword);
    await apage.click('#formulaire-mdp button[type=submit]');
    await apage.locator('#secret:not(:empty)').waitFor();
    await check('enrolement-code');
    const agentDevice = new TotpDevice((await apage.locator('#secret').textContent()).replace(/\s+/g, ''));
    await apage.fill('#code', await agentDevice.code());
    await apage.click('#formulaire-code button[type=submit]');
    await apage.locator('#etape-fin').waitFor();
    await check('enrolement-fin');

    // Sign-in: password, then TOTP.
    await Promise.all([apage.waitForURL('**/backoffice/'), apage.click('#etape-fin a')]);
    await apage.locator('#login').waitFor();
    await check('connexion-agent');
    await apage.fill('#login', 'mleroy');
    await apage.fill('#password', agentPassword);
    await Promise.all([apage.waitForURL('**/backoffice/code.html'), apage.click('#formulaire button[type=submit]')]);
    await apage.locator('#code').waitFor();
    await check('code-agent');
    await apage.fill('#code', await agentDevice.code());
    await Promise.all([apage.waitForURL('**/backoffice/recherche.html'), apage.click('#formulaire button[type=submit]')]);

    // The member's file: locked, suspicious.
    await apage.fill('#nir', formatNir(m.person.nir));
    await apage.click('#formulaire button[type=submit]');
    await apage.locator('#fiche').waitFor();
    assert.match(await apage.locator('#etat').textContent(), /Compte bloqué/);
    assert.match(await apage.locator('#etat').textContent(), /Activité suspecte/);
    await apage.locator('#evenements tr').first().waitFor();
    await check('fiche-bloquee');

    // Unlock without a reason: refused before sending; then with a reason.
    await apage.click('#formulaire-deblocage button[type=submit]');
    await apage.locator('#raison-deblocage-erreur').waitFor();
    await apage.fill('#raison-deblocage', 'Appel de l’assuré au 36 46, identité vérifiée : il est en voyage aux États-Unis.');
    await apage.click('#formulaire-deblocage button[type=submit]');
    await apage.locator('#action-statut .fr-alert--success', { hasText: 'Compte débloqué' }).waitFor();
    assert.match(await apage.locator('#etat').textContent(), /Compte actif/);
    // The file's history: the suspicious lock, then this unlock, its motive and who.
    await apage.locator('#historique li', { hasText: 'Déblocage' }).waitFor();
    const history = await apage.locator('#historique').textContent();
    assert.match(history, /Déblocage.*Par Marie Leroy \(agent de la caisse\).*voyage aux États-Unis.*Blocage — Activité suspecte/s);
    assert.doesNotMatch(history, /agent:mleroy/);
    assert.match(await apage.locator('header [data-agent-nom]').first().textContent(), /Marie Leroy/);
    await check('fiche-debloquee');
    await stack.waitForMail((x) => x.to.includes(m.person.email) && /débloqu/i.test(x.subject + x.body), { skip: seen });

    // The supervisor's audit view shows the action and its reason.
    await apage.goto('/backoffice/audit.html');
    await apage.locator('#audit tr', { hasText: 'voyage aux États-Unis' }).waitFor();
    assert.match(await apage.locator('#audit tr', { hasText: 'voyage aux États-Unis' }).textContent(), /Hugo Petit/);
    await check('audit');
    // The CSV export of the log: the unlock is in it, the export is audited.
    const [download] = await Promise.all([apage.waitForEvent('download'), apage.click('#export')]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv, new RegExp(`mleroy.*Hugo Petit.*${m.person.nir}.*unlock.*voyage aux États-Unis`));
    assert.equal(download.suggestedFilename(), 'journal-audit.csv');
    await actx.close();

    // The member signs in (from the United States again: no new lock).
    assert.equal(await signInPassword(mpage, m.person, m.password), '/code-de-securite.html');
    await enterTotp(mpage, m.device);
    await mpage.locator('#bonjour', { hasText: 'Hugo Petit' }).waitFor();
    await mctx.close();
  });
});
