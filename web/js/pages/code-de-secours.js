// Second factor with a single-use recovery code. Once signed in, the page
// says how many codes are left (issue 15), offers to change phone, and to
// generate new codes when few are left, before going to the member's space.
import { api } from '../api.js';
import {
  PAGES, bindForm, el, requirePartialMember, retryWhenBusy, showAlert, showLockHere,
} from '../ui.js';
import { tx, txn } from '../textes.js';

// At or below this many codes left, the page offers new ones.
const FEW_CODES = 3;

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');
await requirePartialMember();

function codesLeft(n) {
  if (n === 0) return tx('code_de_secours.avez_utilise_dernier_code');
  return txn('commun.codes_de_secours_restants', n);
}

bindForm(form, async (v) => {
  // Busy (503 + a short Retry-After): the page tries again by itself.
  const r = await retryWhenBusy(() => api.post('/login/recovery', { code: v.code.trim() }), status);
  const n = r && Number.isInteger(r.recovery_codes_left) ? r.recovery_codes_left : null;
  if (n === null) {
    window.location.assign(PAGES.dashboard);
    return;
  }
  form.hidden = true;
  document.querySelector('a[href="/code-de-securite.html"]')?.closest('p')?.remove();
  document.querySelector('h1 + p')?.remove();
  document.querySelector('h1').textContent = tx('commun.connexion_reussie');
  const few = n <= FEW_CODES;
  const links = el('ul', { class: 'fr-btns-group fr-btns-group--inline-md fr-mt-2w' },
    el('li', {}, el('a', { class: 'fr-btn', id: 'continuer', href: PAGES.dashboard }, tx('commun.acceder_espace'))),
    few ? el('li', {}, el('a', { class: 'fr-btn fr-btn--secondary', id: 'nouveaux-codes', href: '/compte/codes-de-secours.html' }, tx('commun.generer_nouveaux_codes'))) : null,
    el('li', {}, el('a', { class: 'fr-btn fr-btn--secondary', href: '/compte/changer-de-telephone.html' }, tx('code_de_secours.changer_telephone'))));
  showAlert(status, few ? 'warning' : 'success', codesLeft(n),
    few ? tx('code_de_secours.generez_maintenant_nouveaux_codes')
      : tx('code_de_secours.si_avez_perdu_telephone'),
    { focus: true, extra: links });
}, {
  messages: { 401: { title: tx('commun.code_refuse'), text: tx('code_de_secours.code_secours_incorrect_deja') } },
  // The fifth wrong code locks the account and ends the session (as on
  // the security-code page).
  onLocked: showLockHere,
});
