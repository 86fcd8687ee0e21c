// Registration, step 2: the link's token and the chosen password. The link
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
const restart = () => el('a', { class: 'fr-btn fr-mt-2w', href: '/inscription/' }, 'Recommencer l’inscription');

function gone() {
  showOutcome(status, {
    heading: 'Lien expiré ou déjà utilisé',
    kind: 'error',
    title: 'Ce lien ne permet plus de créer votre compte',
    text: 'Il expire au bout de 30 minutes et ne sert qu’une fois. Recommencez l’inscription pour en recevoir un nouveau par e-mail.',
    extra: restart(),
    hide: [content],
  });
}

if (!token) {
  showOutcome(status, {
    heading: 'Lien incomplet',
    kind: 'error',
    title: 'Ce lien ne contient pas de code de confirmation',
    text: 'Ouvrez le lien reçu par e-mail tel quel, ou recommencez l’inscription.',
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
    heading: 'Votre compte est créé',
    kind: 'success',
    title: 'Votre mot de passe est enregistré',
    text: 'Dernière étape : connectez-vous avec votre numéro de sécurité sociale et ce mot de passe, puis activez la double authentification avec une application de votre téléphone.',
    extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, 'Se connecter'),
    hide: [content],
  });
}, { checks: passwordChecks('password') });
