// Registration: always the same answer (no enumeration).
import { api } from '../api.js';
import {
  birthDateCheck, bindForm, retryWhenBusy, showAlert,
} from '../ui.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');

bindForm(form, async (v) => {
  const body = {
    nir: v.nir.replace(/\s+/g, ''),
    birth_date: v.birth_date,
    postal_code: v.postal_code.trim(),
    email: v.email.trim(),
  };
  const code = (v.code || '').replace(/[\s-]+/g, '').toUpperCase();
  if (code) body.code = code;
  else if (v.by_post) body.by_post = true;
  else body.iban_end = v.iban_end.replace(/\s+/g, '').toUpperCase();
  // Busy (503 + a short Retry-After): the page tries again by itself.
  await retryWhenBusy(() => api.post('/register', body), status);
  form.hidden = true;
  if (body.by_post) {
    showAlert(status, 'success', tx('inscription.verifiez_boite_lettres'),
      tx('inscription.courrier_envoye'),
      { focus: true });
    return;
  }
  showAlert(status, 'success', tx('commun.verifiez_messagerie'),
    tx('inscription.e_mail_envoye'),
    { focus: true });
}, {
  checks: {
    birth_date: birthDateCheck,
    nir: (s) => (/^[0-9]{5}([0-9]{2}|2[abAB])[0-9]{8}$/.test(s.replace(/\s+/g, ''))
      ? null : tx('commun.numero_securite_sociale_comporte')),
    postal_code: (s) => (/^[0-9]{5}$/.test(s.trim()) ? null : tx('inscription.code_postal_5_chiffres')),
    code: (s) => (!s.trim() || /^[0-9A-Za-z]{10}$/.test(s.replace(/[\s-]+/g, ''))
      ? null : tx('inscription.code_provisoire_comporte_10')),
    iban_end: (s, f) => (f.elements.by_post.checked || f.elements.code.value.trim() || /^[0-9A-Za-z]{7}$/.test(s.replace(/\s+/g, ''))
      ? null : tx('inscription.saisissez_7_derniers_caracteres')),
    email: (s) => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim()) ? null : tx('commun.saisissez_adresse_e_mail')),
  },
});
