// Back office enrolment from the link of `portailctl agent add`: the
// password, then the TOTP application.
import { api } from '../api.js';
import { bindForm, passwordChecks, queryParam, showAlert } from '../ui.js';
import { tx } from '../textes.js';

const status = document.getElementById('statut');
const stepPassword = document.getElementById('etape-mdp');
const stepCode = document.getElementById('etape-code');
const stepDone = document.getElementById('etape-fin');
const token = queryParam('token');

if (!token) {
  stepPassword.hidden = true;
  showAlert(status, 'error', tx('commun.lien_incomplet'), tx('bo.enrolement.lien_contient_code_enrolement'));
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
  showAlert(status, 'error', tx('commun.lien_expire_deja_utilise'),
    tx('bo.enrolement.lien_enrolement_valable_demandez'), { focus: true });
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
}, { checks: passwordChecks('password'), onLocked: null, messages: { 401: { title: tx('bo.enrolement.lien_refuse'), text: tx('bo.enrolement.lien_enrolement_valable') } } });

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
  checks: { code: (c) => (/^\d{6}$/.test(c.replace(/\s+/g, '')) ? null : tx('commun.code_6_chiffres')) },
  messages: { 401: { title: tx('commun.code_refuse'), text: tx('commun.code_incorrect_verifiez_heure') } },
  onLocked: null,
});
