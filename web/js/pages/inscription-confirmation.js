// Registration, step 2: the link's token and the chosen password. The link
// is checked as the page opens (without spending it): a used, expired or
// unknown link says so before anything is typed.
import { api } from '../api.js';
import {
  bindForm, el, linkStillValid, passwordChecks, queryParam, retryWhenBusy, showOutcome,
} from '../ui.js';
import { passwordMeter } from '../password-meter.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
passwordMeter(form.elements.password);
const status = document.getElementById('statut');
const content = document.getElementById('contenu-formulaire');
const token = queryParam('token');
const restart = () => el('a', { class: 'fr-btn fr-mt-2w', href: '/inscription/' }, tx('inscription_confirmation.recommencer_inscription'));

function gone() {
  showOutcome(status, {
    heading: tx('commun.lien_expire_deja_utilise'),
    kind: 'error',
    title: tx('inscription_confirmation.lien_permet_creer_compte'),
    text: tx('inscription_confirmation.expire_bout_30_minutes'),
    extra: restart(),
    hide: [content],
  });
}

if (!token) {
  showOutcome(status, {
    heading: tx('commun.lien_incomplet'),
    kind: 'error',
    title: tx('commun.lien_contient_code_confirmation'),
    text: tx('inscription_confirmation.ouvrez_lien_recu_e'),
    extra: restart(),
    hide: [content],
  });
} else if (await linkStillValid('/register/confirm/check', token, status)) {
  content.hidden = false;
} else {
  gone();
}

bindForm(form, async (v) => {
  try {
    // Busy (every hashing slot taken): the page tries again by itself.
    await retryWhenBusy(() => api.post('/register/confirm', { token, password: v.password }), status);
  } catch (err) {
    if (err.status === 410) {
      gone();
      return;
    }
    throw err;
  }
  showOutcome(status, {
    heading: tx('inscription_confirmation.compte_cree'),
    kind: 'success',
    title: tx('inscription_confirmation.mot_passe_enregistre'),
    text: tx('inscription_confirmation.derniere_etape_connectez_numero'),
    extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, tx('commun.se_connecter')),
    hide: [content],
  });
}, { checks: passwordChecks('password') });
