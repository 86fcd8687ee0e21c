// Registration: always the same answer (no enumeration).
import { api } from '../api.js';
import {
  birthDateCheck, bindForm, retryWhenBusy, showAlert,
} from '../ui.js';

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
    showAlert(status, 'success', 'Vérifiez votre boîte aux lettres',
      'Si vos informations correspondent à celles de la caisse, un courrier avec un code provisoire va vous être envoyé à l’adresse postale qu’elle connaît. Revenez sur cette page avec ce code.',
      { focus: true });
    return;
  }
  showAlert(status, 'success', 'Vérifiez votre messagerie',
    'Si vos informations correspondent à celles de la caisse, un e-mail vient d’être envoyé à l’adresse qu’elle a enregistrée pour vous (ou, à défaut, à celle que vous avez saisie). Ouvrez le lien qu’il contient dans les 30 minutes pour choisir votre mot de passe.',
    { focus: true });
}, {
  checks: {
    birth_date: birthDateCheck,
    nir: (s) => (/^[0-9]{5}([0-9]{2}|2[abAB])[0-9]{8}$/.test(s.replace(/\s+/g, ''))
      ? null : 'Le numéro de sécurité sociale comporte 15 caractères (13 chiffres et une clé de 2 chiffres).'),
    postal_code: (s) => (/^[0-9]{5}$/.test(s.trim()) ? null : 'Le code postal comporte 5 chiffres.'),
    code: (s) => (!s.trim() || /^[0-9A-Za-z]{10}$/.test(s.replace(/[\s-]+/g, ''))
      ? null : 'Le code provisoire comporte 10 lettres et chiffres, par exemple ABCDE-23456.'),
    iban_end: (s, f) => (f.elements.by_post.checked || f.elements.code.value.trim() || /^[0-9A-Za-z]{7}$/.test(s.replace(/\s+/g, ''))
      ? null : 'Saisissez les 7 derniers caractères de l’IBAN de votre RIB (lettres et chiffres).'),
    email: (s) => (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim()) ? null : 'Saisissez une adresse e-mail au format nom@domaine.fr.'),
  },
});
