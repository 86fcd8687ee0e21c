// TOTP enrolment: QR code and secret, first code, then the 10 recovery codes
// (shown once, with copy and download).
import { api } from '../api.js';
import {
  PAGES, bindForm, el, requirePartialMember, showAlert, showPageError,
} from '../ui.js';

const status = document.getElementById('statut');
const stepCode = document.getElementById('etape-code');
const stepCodes = document.getElementById('etape-secours');
const form = document.getElementById('formulaire');

const s = await requirePartialMember();

function svgDataUrl(svg) {
  // The SVG is shown as an image (no markup of the API inserted in the page).
  const bytes = new TextEncoder().encode(svg);
  let bin = '';
  bytes.forEach((b) => { bin += String.fromCharCode(b); });
  return `data:image/svg+xml;base64,${btoa(bin)}`;
}

async function loadSecret() {
  const e = await api.get('/totp/enroll');
  document.getElementById('qr').src = svgDataUrl(e.qr_svg);
  document.getElementById('secret').textContent = e.secret_base32.replace(/(.{4})/g, '$1 ').trim();
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
    showAlert(status, 'error', 'Lien expiré', err.message, { focus: true });
  }
}

try {
  await loadSecret();
} catch (err) {
  if (err.status === 401) window.location.replace(PAGES.login);
  else if (err.status === 403) {
    // Reset factor: the mailed link is what allows a new enrolment (an
    // expired link's alert, when there is one, stays).
    if (!status.hasChildNodes()) showAlert(status, 'warning', 'Ouvrez le lien reçu par e-mail', err.message, { focus: true });
  }
  else if (err.status === 409) window.location.replace(s.level === 'member' ? PAGES.dashboard : PAGES.totp);
  else if (err.status === 423) window.location.replace(PAGES.locked);
  else showPageError(status, err);
}

let codes = [];

bindForm(form, async (v) => {
  let r;
  try {
    r = await api.post('/totp/enroll', { code: v.code.replace(/\s+/g, '') });
  } catch (err) {
    // The shown secret expired (or was replaced): a new one, said plainly.
    if (err.status === 409) {
      await loadSecret();
      form.reset();
      showAlert(status, 'warning', 'Nouveau QR code',
        'Le QR code précédent a expiré. Supprimez l’entrée « Portail » de votre application, scannez ce nouveau QR code puis saisissez le code affiché.',
        { focus: true });
      return;
    }
    throw err;
  }
  status.replaceChildren();
  codes = r.recovery_codes || [];
  document.getElementById('codes').replaceChildren(...codes.map((c) => el('li', {}, c)));
  stepCode.hidden = true;
  stepCodes.hidden = false;
  stepCodes.focus();
}, {
  checks: { code: (c) => (/^\d{6}$/.test(c.replace(/\s+/g, '')) ? null : 'Le code comporte 6 chiffres.') },
  messages: { 401: { title: 'Code refusé', text: 'Ce code est incorrect. Vérifiez l’heure de votre téléphone et saisissez le code affiché.' } },
});

const copyStatus = document.getElementById('copie-statut');
const text = () => `Portail — Assurance Maladie : codes de secours\n\n${codes.join('\n')}\n\nChaque code ne sert qu’une fois.\n`;

document.getElementById('copier').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(text());
    showAlert(copyStatus, 'success', 'Codes copiés', 'Collez-les dans un endroit sûr, un gestionnaire de mots de passe par exemple.');
  } catch {
    showAlert(copyStatus, 'warning', 'Copie impossible', 'Votre navigateur n’autorise pas la copie : téléchargez les codes ou recopiez-les.');
  }
});

document.getElementById('telecharger').addEventListener('click', () => {
  const url = URL.createObjectURL(new Blob([text()], { type: 'text/plain;charset=utf-8' }));
  const a = el('a', { href: url, download: 'portail-codes-de-secours.txt' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  showAlert(copyStatus, 'success', 'Codes téléchargés', 'Le fichier portail-codes-de-secours.txt est dans vos téléchargements.');
});
