// Public check of an attestation de droits by its code (the QR code brings
// ?code=).
import { api } from '/js/api.js';
import { formatDate, queryParam, showAlert, showPageError } from '/js/ui.js';

const out = document.getElementById('resultat');
const input = document.getElementById('code');

async function check(code) {
  try {
    const v = await api.get(`/coverage/attestations/verify/${encodeURIComponent(code.trim())}`);
    const text = `Attestation délivrée par ${v.fund || 'la caisse'} pour ${v.initials} (année de naissance\u00a0: ${v.birth_year}), droits du ${formatDate(v.valid_from)} au ${formatDate(v.valid_to)}.`;
    if (v.superseded) showAlert(out, 'warning', 'Attestation remplacée', `${text} Une attestation plus récente a été délivrée depuis.`);
    else showAlert(out, 'success', 'Attestation authentique', text);
  } catch (err) {
    showPageError(out, err);
  }
}

document.getElementById('formulaire').addEventListener('submit', (ev) => {
  ev.preventDefault();
  check(input.value);
});
const given = queryParam('code');
if (given) {
  input.value = given;
  await check(given);
}
