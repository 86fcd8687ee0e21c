// Password change of a signed-in member.
import { api } from '../api.js';
import { bindForm, passwordChecks, requireMember, showAlert } from '../ui.js';
import { passwordMeter } from '../password-meter.js';

const form = document.getElementById('formulaire');
passwordMeter(form.elements.new);
const status = document.getElementById('statut');
await requireMember();

bindForm(form, async (v) => {
  await api.post('/password/change', { current: v.current, new: v.new });
  form.reset();
  showAlert(status, 'success', 'Votre mot de passe est modifié',
    'Vos autres appareils ont été déconnectés et un e-mail de confirmation vous a été envoyé.', { focus: true });
}, {
  checks: passwordChecks('new'),
  messages: { 401: { title: 'Mot de passe actuel incorrect', text: 'Le mot de passe actuel saisi est incorrect. Après 3 erreurs en une heure, votre compte sera bloqué par sécurité.' } },
});
