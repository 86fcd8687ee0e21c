// Back office enrolment from the link of `portailctl agent add`: the
// password, then the TOTP application.
import { api } from '../api.js';
import { bindForm, passwordChecks, queryParam, showAlert } from '../ui.js';

const status = document.getElementById('statut');
const stepPassword = document.getElementById('etape-mdp');
const stepCode = document.getElementById('etape-code');
const stepDone = document.getElementById('etape-fin');
const token = queryParam('token');

if (!token) {
  stepPassword.hidden = true;
  showAlert(status, 'error', 'Lien incomplet', 'Ce lien ne contient pas de code d’enrôlement. Utilisez le lien complet qui vous a été remis.');
}

function svgDataUrl(svg) {
  const bytes = new TextEncoder().encode(svg);
  let bin = '';
  bytes.forEach((b) => { bin += String.fromCharCode(b); });
  return `data:image/svg+xml;base64,${btoa(bin)}`;
}

function expired() {
  stepPassword.hidden = true;
  stepCode.hidden = true;
  showAlert(status, 'error', 'Lien expiré ou déjà utilisé',
    'Ce lien d’enrôlement n’est plus valable. Demandez-en un nouveau à votre responsable.', { focus: true });
}

bindForm(document.getElementById('formulaire-mdp'), async (v) => {
  let e;
  try {
    e = await api.post('/backoffice/enroll', { token, password: v.password });
  } catch (err) {
    if (err.status === 410) return expired();
    throw err;
  }
  document.getElementById('qr').src = svgDataUrl(e.qr_svg);
  document.getElementById('secret').textContent = e.secret_base32.replace(/(.{4})/g, '$1 ').trim();
  stepPassword.hidden = true;
  stepCode.hidden = false;
  stepCode.focus();
}, { checks: passwordChecks('password'), onLocked: null, messages: { 401: { title: 'Lien refusé', text: 'Ce lien d’enrôlement n’est pas valable.' } } });

bindForm(document.getElementById('formulaire-code'), async (v) => {
  try {
    await api.post('/backoffice/enroll/totp', { token, code: v.code.replace(/\s+/g, '') });
  } catch (err) {
    if (err.status === 410) return expired();
    throw err;
  }
  stepCode.hidden = true;
  stepDone.hidden = false;
  stepDone.focus();
}, {
  checks: { code: (c) => (/^\d{6}$/.test(c.replace(/\s+/g, '')) ? null : 'Le code comporte 6 chiffres.') },
  messages: { 401: { title: 'Code refusé', text: 'Ce code est incorrect. Vérifiez l’heure de votre téléphone et saisissez le code affiché.' } },
  onLocked: null,
});
