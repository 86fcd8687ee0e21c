// "Mon profil": identity, contact and bank forms (GET /api/v1/profile, PUT
// /api/v1/profile/contact and /bank). An e-mail or IBAN change answers 202:
// the account waits for the confirmation link, the session is closed.
import { api } from '/js/api.js';
import { bindForm, el, formatDate, formatNir, requireMember, showAlert, showPageError } from '/js/ui.js';

const status = document.getElementById('statut');
const waiting = document.getElementById('attente');
await requireMember();

function maskIban(iban) {
  return iban ? `${iban.slice(0, 4)} •••• •••• ${iban.slice(-4)}` : 'aucun compte enregistré';
}

function pendingNotice(pending) {
  if (!pending.length) {
    waiting.replaceChildren();
    return;
  }
  const what = pending.map((p) => (p.kind === 'bank' ? 'coordonnées bancaires' : 'adresse e-mail')).join(' et ');
  showAlert(waiting, 'info', 'En attente de vérification',
    `La modification de vos ${what} attend votre confirmation\u00a0: suivez le lien reçu par e-mail. Les anciennes valeurs restent utilisées d’ici là.`);
}

function sent() {
  showAlert(status, 'success', 'Confirmez la modification',
    'Un lien de confirmation vous a été envoyé par e-mail (valable 48 heures). Votre compte est en attente de vérification\u00a0: votre session va se terminer sur cet appareil.', { focus: true });
}

async function load() {
  const { profile: p, pending } = await api.get('/profile');
  document.getElementById('identite').replaceChildren(
    `${p.first_name} ${p.last_name}, date de naissance\u00a0: ${formatDate(p.birth_date)}`, el('br'), `NIR ${formatNir(p.nir)}`);
  for (const k of ['email', 'phone', 'address_line', 'postal_code', 'city']) document.getElementById(k).value = p[k] || '';
  document.getElementById('holder').value = p.holder || '';
  document.getElementById('bic').value = p.bic || '';
  document.getElementById('iban-actuel').textContent = `Compte actuel : ${maskIban(p.iban)}`;
  pendingNotice(pending);
}

bindForm(document.getElementById('contact'), async (v) => {
  const body = { email: v.email, address_line: v.address_line, postal_code: v.postal_code, city: v.city };
  if (v.phone) body.phone = v.phone;
  const r = await api.put('/profile/contact', body);
  if (r && r.status === 'pending_verification') sent();
  else showAlert(status, 'success', 'Coordonnées enregistrées', null, { focus: true });
});

bindForm(document.getElementById('banque'), async (v) => {
  await api.put('/profile/bank', { iban: v.iban, bic: v.bic, holder: v.holder });
  sent();
});

try {
  await load();
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
