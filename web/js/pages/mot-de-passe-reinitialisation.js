// Password reset from the mailed link (token in the query string).
import { api } from '../api.js';
import { bindForm, el, passwordChecks, queryParam, showAlert } from '../ui.js';
import { passwordMeter } from '../password-meter.js';

const form = document.getElementById('formulaire');
passwordMeter(form.elements.password);
const status = document.getElementById('statut');
const content = document.getElementById('contenu-formulaire');
const token = queryParam('token');
const again = () => el('a', { class: 'fr-btn fr-mt-2w', href: '/mot-de-passe/oublie.html' }, 'Demander un nouveau lien');

if (!token) {
  content.hidden = true;
  showAlert(status, 'error', 'Lien incomplet',
    'Ce lien ne contient pas de code de réinitialisation. Ouvrez le lien reçu par e-mail tel quel.', { extra: again() });
}

bindForm(form, async (v) => {
  let r;
  try {
    r = await api.post('/password/reset', { token, password: v.password });
  } catch (err) {
    if (err.status === 410) {
      content.hidden = true;
      showAlert(status, 'error', 'Lien expiré ou déjà utilisé',
        'Ce lien n’est plus valable : il expire au bout de 30 minutes et ne sert qu’une fois.', { focus: true, extra: again() });
      return;
    }
    throw err;
  }
  content.hidden = true;
  if (r && r.still_locked) {
    const steps = (r.steps || []).map((st) => el('li', {}, st.text));
    showAlert(status, 'warning', 'Mot de passe modifié, compte toujours bloqué',
      r.detail || 'Votre compte reste bloqué pour votre sécurité : appelez le 36 46 pour le faire débloquer.',
      { focus: true, extra: steps.length ? el('ul', {}, steps) : null });
  } else {
    showAlert(status, 'success', 'Votre mot de passe est modifié',
      'Vos appareils ont été déconnectés. Connectez-vous avec votre nouveau mot de passe.',
      { focus: true, extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, 'Se connecter') });
  }
}, { checks: passwordChecks('password') });
