// Back office: agent sign-in (password, then TOTP).
import { ApiError, api } from '../api.js';
import { PAGES, bindForm, retryWhenBusy } from '../ui.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');

bindForm(form, async (v) => {
  const r = await retryWhenBusy(() => api.post('/backoffice/login', { login: v.login.trim(), password: v.password }), status);
  if (r && r.next === 'totp_enroll') {
    throw new ApiError(403, { detail: tx('bo.commun.acces_encore_active_ouvrez') });
  }
  window.location.assign(PAGES.agentTotp);
}, {
  messages: { 401: { title: tx('commun.identification_refusee'), text: tx('bo.connexion.identifiant_mot_passe_incorrect') } },
  onLocked: null,
});
