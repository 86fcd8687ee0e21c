// Public check of an attestation de droits by its code (the QR code brings
// ?code=).
import { api } from '/js/api.js';
import { formatDate, queryParam, showAlert, showPageError } from '/js/ui.js';
import { tx } from '/js/textes.js';

const out = document.getElementById('resultat');
const input = document.getElementById('code');

async function check(code) {
  try {
    const v = await api.get(`/coverage/attestations/verify/${encodeURIComponent(code.trim())}`);
    const text = tx('coverage.verifier.attestation_delivree', {
      caisse: v.fund || tx('coverage.verifier.la_caisse'),
      initiales: v.initials,
      annee: v.birth_year,
      from: formatDate(v.valid_from),
      to: formatDate(v.valid_to),
    });
    if (v.superseded) showAlert(out, 'warning', tx('coverage.verifier.attestation_remplacee'), tx('coverage.verifier.attestation_plus_recente', { text }));
    else showAlert(out, 'success', tx('coverage.verifier.attestation_authentique'), text);
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
