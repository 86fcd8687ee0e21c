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
import { tx } from '../textes.js';

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
  return el('a', { class: 'fr-btn fr-btn--secondary fr-mt-2w', href: PAGE }, tx('commun.demander_nouveau_lien'));
}

function linkGone(err) {
  enrol.hidden = true;
  showAlert(status, 'error', tx('commun.lien_expire_deja_utilise'), err.message, { focus: true, extra: newLinkButton() });
}

async function start() {
  showEnrolment(await api.post('/totp/change/start', { token }));
  enrol.hidden = false;
}

if (!signedIn && token) {
  // The link works only where the account is open: sign in, then open it again.
  showAlert(status, 'warning', tx('changer_de_telephone.connectez_continuer'),
    tx('changer_de_telephone.lien_ouvre_navigateur_compte'),
    { focus: true, extra: el('a', { class: 'fr-btn fr-mt-2w', href: PAGES.login }, tx('commun.se_connecter')) });
} else if (!signedIn) {
  window.location.replace(s && s.kind === 'member' ? PAGES.totp : PAGES.login);
} else if (!token) {
  ask.hidden = false;
  bindForm(document.getElementById('formulaire'), async (v, form) => {
    await api.post('/totp/change', { password: v.password });
    form.reset();
    ask.hidden = true;
    showAlert(status, 'success', tx('changer_de_telephone.lien_envoye'),
      tx('changer_de_telephone.e_mail_lien_vient'),
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
        showAlert(status, 'warning', tx('changer_de_telephone.nouveau_code_qr'),
          tx('changer_de_telephone.code_qr_precedent_expire'),
          { focus: true });
        return;
      }
      throw err;
    }
    enrol.hidden = true;
    showAlert(status, 'success', tx('changer_de_telephone.nouveau_telephone_enregistre'),
      tx('changer_de_telephone.prochains_codes_securite_viennent'),
      { focus: true, extra: el('a', { class: 'fr-btn fr-mt-2w', href: PAGES.dashboard }, tx('commun.acceder_espace')) });
  }, {
    checks: { code: (c) => (/^\d{6}$/.test(c.replace(/\s+/g, '')) ? null : tx('changer_de_telephone.saisissez_6_chiffres_affiches')) },
  });
}
