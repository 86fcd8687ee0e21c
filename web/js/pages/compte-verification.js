// Confirmation of an account update (link sent by mail), on an explicit
// click: a mail scanner opening the link confirms nothing.
import { api } from '../api.js';
import { bindForm, el, queryParam, showAlert } from '../ui.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');
const token = queryParam('token');

if (!token) {
  form.hidden = true;
  showAlert(status, 'error', 'Lien incomplet', 'Ce lien ne contient pas de code de confirmation. Ouvrez le lien reçu par e-mail tel quel.');
}

bindForm(form, async () => {
  let r;
  try {
    r = await api.post('/account/verify', { token });
  } catch (err) {
    if (err.status === 410) {
      form.hidden = true;
      showAlert(status, 'error', 'Lien expiré ou déjà utilisé',
        'Ce lien n’est plus valable. Appelez le 36 46 pour faire vérifier votre compte.', { focus: true });
      return;
    }
    throw err;
  }
  form.hidden = true;
  if (r && r.still_locked) {
    showAlert(status, 'warning', 'Modification confirmée, compte toujours bloqué',
      r.detail || 'Votre compte reste bloqué pour une autre raison : appelez le 36 46.', { focus: true });
    return;
  }
  showAlert(status, 'success', 'Modification confirmée', 'Votre compte est débloqué.',
    { focus: true, extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, 'Se connecter') });
});
