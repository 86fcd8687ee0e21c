// Back office: agent sign-in (password, then TOTP).
import { ApiError, api } from '../api.js';
import { PAGES, bindForm, retryWhenBusy } from '../ui.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');

bindForm(form, async (v) => {
  const r = await retryWhenBusy(() => api.post('/backoffice/login', { login: v.login.trim(), password: v.password }), status);
  if (r && r.next === 'totp_enroll') {
    throw new ApiError(403, { detail: 'Votre accès n’est pas encore activé\u00a0: ouvrez le lien d’enrôlement qui vous a été remis.' });
  }
  window.location.assign(PAGES.agentTotp);
}, {
  messages: { 401: { title: 'Identification refusée', text: 'Identifiant ou mot de passe incorrect.' } },
  onLocked: null,
});
