// Confirmation of an account update (link sent by mail), on an explicit
// click: a mail scanner opening the link confirms nothing. The link is
// checked as the page opens (without spending it): a used, expired or
// unknown link says so at once.
import { api } from '../api.js';
import {
  bindForm, el, linkStillValid, queryParam, showOutcome,
} from '../ui.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');
const content = document.getElementById('contenu-formulaire');
const token = queryParam('token');

function gone() {
  showOutcome(status, {
    heading: tx('commun.lien_expire_deja_utilise'),
    kind: 'error',
    title: tx('compte_verification.lien_permet_confirmer_modification'),
    text: tx('compte_verification.expire_bout_48_heures'),
    hide: [content],
  });
}

if (!token) {
  showOutcome(status, {
    heading: tx('commun.lien_incomplet'),
    kind: 'error',
    title: tx('commun.lien_contient_code_confirmation'),
    text: tx('compte_verification.ouvrez_lien_recu_e'),
    hide: [content],
  });
} else if (await linkStillValid('/account/verify/check', token, status)) {
  content.hidden = false;
} else {
  gone();
}

bindForm(form, async () => {
  let r;
  try {
    r = await api.post('/account/verify', { token });
  } catch (err) {
    if (err.status === 410) {
      gone();
      return;
    }
    throw err;
  }
  if (r && r.still_locked) {
    showOutcome(status, {
      heading: tx('compte_verification.modification_confirmee_compte_toujours'),
      kind: 'warning',
      title: tx('commun.compte_reste_bloque'),
      text: r.detail || tx('compte_verification.compte_reste_bloque_autre'),
      hide: [content],
    });
    return;
  }
  showOutcome(status, {
    heading: tx('commun.modification_confirmee'),
    kind: 'success',
    title: tx('compte_verification.compte_debloque'),
    text: tx('compte_verification.pouvez_nouveau_connecter_espace'),
    extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, tx('commun.se_connecter')),
    hide: [content],
  });
});
