// "Mon profil": identity, contact and bank forms (GET /api/v1/profile, PUT
// /api/v1/profile/contact and /bank). An e-mail or IBAN change answers 202:
// the account waits for the confirmation link, the session is closed.
import { api } from '/js/api.js';
import { bindForm, el, formatDate, formatNir, requireMember, showAlert, showPageError } from '/js/ui.js';
import { tx } from '/js/textes.js';

const status = document.getElementById('statut');
const waiting = document.getElementById('attente');
await requireMember();

function maskIban(iban) {
  return iban ? `${iban.slice(0, 4)} •••• •••• ${iban.slice(-4)}` : tx('coverage.profil.aucun_compte_enregistre');
}

function pendingNotice(pending) {
  if (!pending.length) {
    waiting.replaceChildren();
    return;
  }
  const what = pending.map((p) => (p.kind === 'bank' ? tx('coverage.profil.coordonnees_bancaires') : 'adresse e-mail')).join(' et ');
  showAlert(waiting, 'info', tx('coverage.profil.attente_verification'),
    tx('coverage.profil.modification_what_attend_confirmation', { what }));
}

function sent() {
  showAlert(status, 'success', tx('coverage.profil.confirmez_modification'),
    tx('coverage.profil.lien_confirmation_ete_envoye'), { focus: true });
}

// The account's value, unless the member typed in the field while the page
// was loading: what they typed is kept.
function fill(id, value) {
  const input = document.getElementById(id);
  if (!input.value) input.value = value || '';
}

async function load() {
  const { profile: p, pending } = await api.get('/profile');
  document.getElementById('identite').replaceChildren(
    tx('coverage.profil.identite', { prenom: p.first_name, nom: p.last_name, date: formatDate(p.birth_date) }), el('br'), `NIR ${formatNir(p.nir)}`);
  for (const k of ['email', 'phone', 'address_line', 'postal_code', 'city', 'holder', 'bic']) fill(k, p[k]);
  document.getElementById('iban-actuel').textContent = tx('coverage.profil.compte_actuel', { iban: maskIban(p.iban) });
  pendingNotice(pending);
}

bindForm(document.getElementById('contact'), async (v) => {
  const body = { email: v.email, address_line: v.address_line, postal_code: v.postal_code, city: v.city };
  if (v.phone) body.phone = v.phone;
  const r = await api.put('/profile/contact', body);
  if (r && r.status === 'pending_verification') sent();
  else showAlert(status, 'success', tx('coverage.profil.coordonnees_enregistrees'), null, { focus: true });
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
