// Password reset from the mailed link (token in the query string). The link
// is checked as the page opens (without spending it): a used, expired or
// unknown link says so before anything is typed.
import { api } from '../api.js';
import {
  bindForm, el, linkStillValid, passwordChecks, queryParam, retryWhenBusy, showOutcome,
} from '../ui.js';
import { passwordMeter } from '../password-meter.js';

const form = document.getElementById('formulaire');
passwordMeter(form.elements.password);
const status = document.getElementById('statut');
const content = document.getElementById('contenu-formulaire');
const token = queryParam('token');
const again = () => el('a', { class: 'fr-btn fr-mt-2w', href: '/mot-de-passe/oublie.html' }, 'Demander un nouveau lien');
const signIn = () => el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, 'Se connecter');

function gone() {
  showOutcome(status, {
    heading: 'Lien expiré ou déjà utilisé',
    kind: 'error',
    title: 'Ce lien ne permet plus de changer votre mot de passe',
    text: 'Il expire au bout de 30 minutes et ne sert qu’une fois. Demandez un nouveau lien avec votre numéro de sécurité sociale, votre date de naissance et votre adresse e-mail.',
    extra: again(),
    hide: [content],
  });
}

if (!token) {
  showOutcome(status, {
    heading: 'Lien incomplet',
    kind: 'error',
    title: 'Ce lien ne contient pas de code de réinitialisation',
    text: 'Ouvrez le lien reçu par e-mail tel quel, ou demandez-en un nouveau.',
    extra: again(),
    hide: [content],
  });
} else if (await linkStillValid('/password/reset/check', token, status)) {
  content.hidden = false;
} else {
  gone();
}

bindForm(form, async (v) => {
  let r;
  try {
    // Busy (every hashing slot taken): the page tries again by itself.
    r = await retryWhenBusy(() => api.post('/password/reset', { token, password: v.password }), status);
  } catch (err) {
    if (err.status === 410) {
      gone();
      return;
    }
    throw err;
  }
  if (r && r.still_locked) {
    const steps = (r.steps || []).map((st) => el('li', {}, st.text));
    showOutcome(status, {
      heading: 'Mot de passe modifié, compte toujours bloqué',
      kind: 'warning',
      title: 'Votre compte reste bloqué',
      text: r.detail || 'Votre compte reste bloqué pour votre sécurité : appelez le 36 46 pour le faire débloquer.',
      extra: steps.length ? el('ul', {}, steps) : null,
      hide: [content],
    });
    return;
  }
  showOutcome(status, {
    heading: 'Mot de passe modifié',
    kind: 'success',
    title: 'Votre nouveau mot de passe est enregistré',
    text: 'Par sécurité, tous vos appareils ont été déconnectés. Connectez-vous avec votre nouveau mot de passe et votre code de sécurité.',
    extra: signIn(),
    hide: [content],
  });
}, { checks: passwordChecks('password') });
