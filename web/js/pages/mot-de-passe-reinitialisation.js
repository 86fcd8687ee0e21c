// Password reset from the mailed link (token in the query string). The link
// is checked as the page opens (without spending it): a used, expired or
// unknown link says so before anything is typed.
import { api } from '../api.js';
import {
  bindForm, el, linkStillValid, passwordChecks, queryParam, retryWhenBusy, showOutcome,
} from '../ui.js';
import { passwordMeter } from '../password-meter.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
passwordMeter(form.elements.password);
const status = document.getElementById('statut');
const content = document.getElementById('contenu-formulaire');
const token = queryParam('token');
const again = () => el('a', { class: 'fr-btn fr-mt-2w', href: '/mot-de-passe/oublie.html' }, tx('commun.demander_nouveau_lien'));
const signIn = () => el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, tx('commun.se_connecter'));

function gone() {
  showOutcome(status, {
    heading: tx('commun.lien_expire_deja_utilise'),
    kind: 'error',
    title: tx('mot_de_passe_reinitialisation.lien_permet_changer_mot'),
    text: tx('mot_de_passe_reinitialisation.expire_bout_30_minutes'),
    extra: again(),
    hide: [content],
  });
}

if (!token) {
  showOutcome(status, {
    heading: tx('commun.lien_incomplet'),
    kind: 'error',
    title: tx('mot_de_passe_reinitialisation.lien_contient_code_reinitialisation'),
    text: tx('mot_de_passe_reinitialisation.ouvrez_lien_recu_e'),
    extra: again(),
    hide: [content],
  });
} else if (await linkStillValid('/password/reset/check', token, status)) {
  content.hidden = false;
} else {
  gone();
}

bindForm(form, async (v) => {
  let r;
  try {
    // Busy (every hashing slot taken): the page tries again by itself.
    r = await retryWhenBusy(() => api.post('/password/reset', { token, password: v.password }), status);
  } catch (err) {
    if (err.status === 410) {
      gone();
      return;
    }
    throw err;
  }
  if (r && r.still_locked) {
    const steps = (r.steps || []).map((st) => el('li', {}, st.text));
    showOutcome(status, {
      heading: tx('mot_de_passe_reinitialisation.mot_passe_modifie_compte'),
      kind: 'warning',
      title: tx('commun.compte_reste_bloque'),
      text: r.detail || tx('mot_de_passe_reinitialisation.compte_reste_bloque_securite'),
      extra: steps.length ? el('ul', {}, steps) : null,
      hide: [content],
    });
    return;
  }
  showOutcome(status, {
    heading: tx('commun.mot_passe_modifie'),
    kind: 'success',
    title: tx('commun.nouveau_mot_passe_enregistre'),
    text: tx('mot_de_passe_reinitialisation.securite_appareils_ont_ete'),
    extra: signIn(),
    hide: [content],
  });
}, { checks: passwordChecks('password') });
