// Attestation de droits: for whom, then the PDF link.
import { api } from '/js/api.js';
import { el, requireMember, showPageError } from '/js/ui.js';

const status = document.getElementById('statut');
const select = document.getElementById('personne');
const link = document.getElementById('telecharger');
await requireMember();

function update() {
  link.href = select.value ? `/api/v1/coverage/attestation.pdf?beneficiary=${encodeURIComponent(select.value)}`
    : '/api/v1/coverage/attestation.pdf';
}
select.addEventListener('change', update);
try {
  const c = await api.get('/coverage');
  select.append(...c.beneficiaries.map((b) => el('option', { value: String(b.id) }, `${b.first_name} ${b.last_name}`)));
  update();
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
