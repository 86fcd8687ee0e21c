// Second factor with a single-use recovery code. Once signed in, the page
// says how many codes are left (issue 15), offers to change phone, and to
// generate new codes when few are left, before going to the member's space.
import { api } from '../api.js';
import {
  PAGES, bindForm, el, requirePartialMember, retryWhenBusy, showAlert, showLockHere,
} from '../ui.js';

// At or below this many codes left, the page offers new ones.
const FEW_CODES = 3;

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');
await requirePartialMember();

function codesLeft(n) {
  if (n === 0) return 'Vous avez utilisé votre dernier code de secours.';
  return `Il vous reste ${n} code${n > 1 ? 's' : ''} de secours.`;
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
  document.querySelector('h1').textContent = 'Connexion réussie';
  const few = n <= FEW_CODES;
  const links = el('ul', { class: 'fr-btns-group fr-btns-group--inline-md fr-mt-2w' },
    el('li', {}, el('a', { class: 'fr-btn', id: 'continuer', href: PAGES.dashboard }, 'Accéder à mon espace')),
    few ? el('li', {}, el('a', { class: 'fr-btn fr-btn--secondary', id: 'nouveaux-codes', href: '/compte/codes-de-secours.html' }, 'Générer de nouveaux codes')) : null,
    el('li', {}, el('a', { class: 'fr-btn fr-btn--secondary', href: '/compte/changer-de-telephone.html' }, 'Changer de téléphone')));
  showAlert(status, few ? 'warning' : 'success', codesLeft(n),
    few ? 'Générez dès maintenant de nouveaux codes de secours pour ne pas en manquer.'
      : 'Si vous avez perdu votre téléphone, changez de téléphone pour recevoir de nouveau vos codes de sécurité.',
    { focus: true, extra: links });
}, {
  messages: { 401: { title: 'Code refusé', text: 'Ce code de secours est incorrect ou a déjà été utilisé.' } },
  // The fifth wrong code locks the account and ends the session (as on
  // the security-code page).
  onLocked: showLockHere,
});
