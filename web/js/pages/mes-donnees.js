// The member's own data: the download (a plain link to GET
// /api/v1/account/export, an attachment) and the closing of the online
// account with the password and a security code.
import { api } from '../api.js';
import { bindForm, el, requireMember, showAlert } from '../ui.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');
const content = document.getElementById('contenu-donnees');
await requireMember();

bindForm(form, async (v) => {
  await api.post('/account/close', { password: v.password, code: v.code });
  content.hidden = true;
  showAlert(status, 'success', 'Votre compte en ligne est fermé',
    'Un e-mail de confirmation vous a été envoyé. Votre dossier d’assuré reste à votre caisse.',
    { focus: true, extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/' }, 'Retour à l’accueil') });
}, {
  checks: { code: (s) => (/^\d{6}$/.test(s) ? null : 'Le code de sécurité comporte 6 chiffres.') },
  messages: { 401: { title: 'Mot de passe ou code incorrect', text: 'Le mot de passe ou le code de sécurité saisi est incorrect. Après plusieurs erreurs, votre compte sera bloqué par sécurité.' } },
});
