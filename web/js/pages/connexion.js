// Sign-in: NIR + password, then the second factor (or its enrolment).
import { api } from '../api.js';
import { PAGES, bindForm, retryWhenBusy, showSignedOutReason } from '../ui.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');
// Signed out from another device, or by the fund: say so (?motif=).
showSignedOutReason(status);

bindForm(form, async (v) => {
  // A flood may hold every hashing slot: the page tries again by itself.
  const r = await retryWhenBusy(() => api.post('/login', { nir: v.nir.replace(/\s+/g, ''), password: v.password }), status);
  window.location.assign(r && r.next === 'totp_enroll' ? PAGES.enroll : PAGES.totp);
}, {
  checks: {
    nir: (s) => (/^[0-9]{5}([0-9]{2}|2[abAB])[0-9]{8}$/.test(s.replace(/\s+/g, ''))
      ? null : tx('commun.numero_securite_sociale_comporte')),
  },
  messages: { 401: { title: tx('commun.identification_refusee'), text: tx('connexion.numero_securite_sociale_mot') } },
});
