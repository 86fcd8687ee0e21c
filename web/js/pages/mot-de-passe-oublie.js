// Forgotten password: always the same answer (no enumeration).
import { api } from '../api.js';
import {
  birthDateCheck, bindForm, retryWhenBusy, showAlert,
} from '../ui.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');

bindForm(form, async (v) => {
  const body = { nir: v.nir.replace(/\s+/g, ''), birth_date: v.birth_date, email: v.email.trim() };
  // Busy (503 + a short Retry-After): the page tries again by itself.
  await retryWhenBusy(() => api.post('/password/forgot', body), status);
  form.hidden = true;
  showAlert(status, 'success', tx('commun.verifiez_messagerie'),
    tx('mot_de_passe_oublie.si_informations_correspondent_compte'),
    { focus: true });
}, {
  checks: {
    birth_date: birthDateCheck,
    nir: (s) => (/^[0-9]{5}([0-9]{2}|2[abAB])[0-9]{8}$/.test(s.replace(/\s+/g, ''))
      ? null : tx('commun.numero_securite_sociale_comporte')),
    email: (s) => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim()) ? null : tx('commun.saisissez_adresse_e_mail')),
  },
});
