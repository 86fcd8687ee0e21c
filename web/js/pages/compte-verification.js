// Confirmation of an account update (link sent by mail), on an explicit
// click: a mail scanner opening the link confirms nothing. The link is
// checked as the page opens (without spending it): a used, expired or
// unknown link says so at once.
import { api } from '../api.js';
import {
  bindForm, el, linkStillValid, queryParam, showOutcome,
} from '../ui.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');
const content = document.getElementById('contenu-formulaire');
const token = queryParam('token');

function gone() {
  showOutcome(status, {
    heading: 'Lien expiré ou déjà utilisé',
    kind: 'error',
    title: 'Ce lien ne permet plus de confirmer la modification',
    text: 'Il expire au bout de 48 heures et ne sert qu’une fois. Si votre compte est toujours bloqué, appelez le 36 46 pour le faire vérifier.',
    hide: [content],
  });
}

if (!token) {
  showOutcome(status, {
    heading: 'Lien incomplet',
    kind: 'error',
    title: 'Ce lien ne contient pas de code de confirmation',
    text: 'Ouvrez le lien reçu par e-mail tel quel.',
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
      heading: 'Modification confirmée, compte toujours bloqué',
      kind: 'warning',
      title: 'Votre compte reste bloqué',
      text: r.detail || 'Votre compte reste bloqué pour une autre raison : appelez le 36 46.',
      hide: [content],
    });
    return;
  }
  showOutcome(status, {
    heading: 'Modification confirmée',
    kind: 'success',
    title: 'Votre compte est débloqué',
    text: 'Vous pouvez de nouveau vous connecter à votre espace.',
    extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, 'Se connecter'),
    hide: [content],
  });
});
