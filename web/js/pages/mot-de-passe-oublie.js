// Forgotten password: always the same answer (no enumeration).
import { api } from '../api.js';
import {
  birthDateCheck, bindForm, retryWhenBusy, showAlert,
} from '../ui.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');

bindForm(form, async (v) => {
  const body = { nir: v.nir.replace(/\s+/g, ''), birth_date: v.birth_date, email: v.email.trim() };
  // Busy (503 + a short Retry-After): the page tries again by itself.
  await retryWhenBusy(() => api.post('/password/forgot', body), status);
  form.hidden = true;
  showAlert(status, 'success', 'Vérifiez votre messagerie',
    'Si ces informations correspondent à un compte, un e-mail vient d’être envoyé avec un lien valable 30 minutes pour choisir un nouveau mot de passe.',
    { focus: true });
}, {
  checks: {
    birth_date: birthDateCheck,
    nir: (s) => (/^[0-9]{5}([0-9]{2}|2[abAB])[0-9]{8}$/.test(s.replace(/\s+/g, ''))
      ? null : 'Le numéro de sécurité sociale comporte 15 caractères (13 chiffres et une clé de 2 chiffres).'),
    email: (s) => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim()) ? null : 'Saisissez une adresse e-mail au format nom@domaine.fr.'),
  },
});
