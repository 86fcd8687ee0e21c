// Registration, step 2: the link's token and the chosen password.
import { api } from '../api.js';
import { bindForm, el, passwordChecks, queryParam, showAlert } from '../ui.js';
import { passwordMeter } from '../password-meter.js';

const form = document.getElementById('formulaire');
passwordMeter(form.elements.password);
const status = document.getElementById('statut');
const content = document.getElementById('contenu-formulaire');
const token = queryParam('token');

if (!token) {
  content.hidden = true;
  showAlert(status, 'error', 'Lien incomplet',
    'Ce lien ne contient pas de code de confirmation. Ouvrez le lien reçu par e-mail tel quel, ou recommencez l’inscription.',
    { extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/inscription/' }, 'Recommencer l’inscription') });
}

bindForm(form, async (v) => {
  try {
    await api.post('/register/confirm', { token, password: v.password });
  } catch (err) {
    if (err.status === 410) {
      content.hidden = true;
      showAlert(status, 'error', 'Lien expiré ou déjà utilisé',
        'Ce lien n’est plus valable (il expire au bout de 30 minutes et ne sert qu’une fois). Recommencez l’inscription pour en recevoir un nouveau.',
        { focus: true, extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/inscription/' }, 'Recommencer l’inscription') });
      return;
    }
    throw err;
  }
  content.hidden = true;
  showAlert(status, 'success', 'Votre compte est créé',
    'Connectez-vous avec votre numéro de sécurité sociale et ce mot de passe : vous activerez ensuite la double authentification.',
    { focus: true, extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, 'Se connecter') });
}, { checks: passwordChecks('password') });
