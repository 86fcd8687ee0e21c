// TOTP enrolment: QR code, "Ajouter à mon application" link and key, first
// code, then the 10 recovery codes (shown once; copy, download, print, and
// "J’ai conservé mes codes" before continuing): web/js/second-factor.js.
import { api } from '../api.js';
import {
  PAGES, bindForm, requirePartialMember, showAlert, showPageError,
} from '../ui.js';
import { bindCopyKey, showEnrolment, showRecoveryCodes } from '../second-factor.js';
import { tx } from '../textes.js';

const status = document.getElementById('statut');
const stepCode = document.getElementById('etape-code');
const stepCodes = document.getElementById('etape-secours');
const form = document.getElementById('formulaire');

const s = await requirePartialMember();

bindCopyKey();

async function loadSecret() {
  showEnrolment(await api.get('/totp/enroll'));
  stepCode.hidden = false;
}

// After a TOTP reset, the link mailed to the address on file (?token=)
// allows the new enrolment; it is spent here, then dropped from the URL.
const token = new URLSearchParams(window.location.search).get('token');
if (token) {
  window.history.replaceState(null, '', window.location.pathname);
  try {
    await api.post('/totp/reenrol', { token });
  } catch (err) {
    if (err.status !== 410) throw err;
    showAlert(status, 'error', tx('double_authentification.lien_expire'), err.message, { focus: true });
  }
}

try {
  await loadSecret();
} catch (err) {
  if (err.status === 401) window.location.replace(PAGES.login);
  else if (err.status === 403) {
    // Reset factor: the mailed link is what allows a new enrolment (an
    // expired link's alert, when there is one, stays).
    if (!status.hasChildNodes()) showAlert(status, 'warning', tx('double_authentification.ouvrez_lien_recu_e'), err.message, { focus: true });
  }
  else if (err.status === 409) window.location.replace(s.level === 'member' ? PAGES.dashboard : PAGES.totp);
  else if (err.status === 423) window.location.replace(PAGES.locked);
  else showPageError(status, err);
}

bindForm(form, async (v) => {
  let r;
  try {
    r = await api.post('/totp/enroll', { code: v.code.replace(/\s+/g, '') });
  } catch (err) {
    // The shown secret expired (or was replaced): a new one, said plainly.
    if (err.status === 409) {
      await loadSecret();
      form.reset();
      showAlert(status, 'warning', tx('double_authentification.nouveau_qr_code'),
        tx('double_authentification.qr_code_precedent_expire'),
        { focus: true });
      return;
    }
    throw err;
  }
  status.replaceChildren();
  showRecoveryCodes(r.recovery_codes || []);
  stepCode.hidden = true;
  stepCodes.hidden = false;
  stepCodes.focus();
}, {
  checks: { code: (c) => (/^\d{6}$/.test(c.replace(/\s+/g, '')) ? null : tx('commun.code_6_chiffres')) },
  messages: { 401: { title: tx('commun.code_refuse'), text: tx('commun.code_incorrect_verifiez_heure') } },
});
