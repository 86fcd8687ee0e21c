// "Changer de téléphone" (issue 15). Without a link: the password, then a
// single-use link mailed to the address on file. With the link (?token=,
// dropped from the address bar at once): the new authenticator's QR code,
// "Ajouter à mon application" and the key, then a first code of the new
// phone, which only then replaces the old one (second-factor.js).
import { api, session } from '../api.js';
import {
  PAGES, bindForm, el, recheckMessages, showAlert, showPageError,
} from '../ui.js';
import { bindCopyKey, showEnrolment } from '../second-factor.js';

const status = document.getElementById('statut');
const ask = document.getElementById('etape-demande');
const enrol = document.getElementById('etape-code');
const confirm = document.getElementById('confirmation');
const PAGE = window.location.pathname;

const token = new URLSearchParams(window.location.search).get('token');
if (token) window.history.replaceState(null, '', PAGE);

const s = await session();
const signedIn = s && s.kind === 'member' && s.level === 'member';

function newLinkButton() {
  return el('a', { class: 'fr-btn fr-btn--secondary fr-mt-2w', href: PAGE }, 'Demander un nouveau lien');
}

function linkGone(err) {
  enrol.hidden = true;
  showAlert(status, 'error', 'Lien expiré ou déjà utilisé', err.message, { focus: true, extra: newLinkButton() });
}

async function start() {
  showEnrolment(await api.post('/totp/change/start', { token }));
  enrol.hidden = false;
}

if (!signedIn && token) {
  // The link works only where the account is open: sign in, then open it again.
  showAlert(status, 'warning', 'Connectez-vous pour continuer',
    'Ce lien s’ouvre dans le navigateur où votre compte est ouvert. Connectez-vous, puis ouvrez de nouveau le lien reçu par e-mail.',
    { focus: true, extra: el('a', { class: 'fr-btn fr-mt-2w', href: PAGES.login }, 'Se connecter') });
} else if (!signedIn) {
  window.location.replace(s && s.kind === 'member' ? PAGES.totp : PAGES.login);
} else if (!token) {
  ask.hidden = false;
  bindForm(document.getElementById('formulaire'), async (v, form) => {
    await api.post('/totp/change', { password: v.password });
    form.reset();
    ask.hidden = true;
    showAlert(status, 'success', 'Lien envoyé',
      'Un e-mail avec le lien vient de vous être envoyé, à l’adresse de votre compte. Ouvrez-le dans ce navigateur dans les 30 prochaines minutes.',
      { focus: true });
  }, {
    messages: recheckMessages(),
  });
} else {
  bindCopyKey();
  try {
    await start();
  } catch (err) {
    if (err.status === 410) linkGone(err);
    else if (err.status === 401) window.location.replace(PAGES.login);
    else if (err.status === 423) window.location.replace(PAGES.locked);
    else showPageError(status, err);
  }
  bindForm(confirm, async (v) => {
    try {
      await api.post('/totp/change/confirm', { token, code: v.code.replace(/\s+/g, '') });
    } catch (err) {
      if (err.status === 410) {
        linkGone(err);
        return;
      }
      if (err.status === 409) {
        // The shown secret expired: a new one, said plainly.
        await start();
        confirm.reset();
        showAlert(status, 'warning', 'Nouveau code QR',
          'Le code QR précédent a expiré. Supprimez la nouvelle entrée «\u00a0Portail\u00a0» de l’application, scannez ce nouveau code QR puis saisissez le code affiché.',
          { focus: true });
        return;
      }
      throw err;
    }
    enrol.hidden = true;
    showAlert(status, 'success', 'Nouveau téléphone enregistré',
      'Vos prochains codes de sécurité viennent de l’application de ce nouveau téléphone\u00a0; ceux de l’ancien ne sont plus acceptés. Vos autres appareils connectés ont été déconnectés et un e-mail de confirmation vous a été envoyé. Vos codes de secours restent les mêmes.',
      { focus: true, extra: el('a', { class: 'fr-btn fr-mt-2w', href: PAGES.dashboard }, 'Accéder à mon espace') });
  }, {
    checks: { code: (c) => (/^\d{6}$/.test(c.replace(/\s+/g, '')) ? null : 'Saisissez les 6 chiffres affichés par l’application du nouveau téléphone.') },
  });
}
