// Shared by the reimbursements pages: amounts and labels in French.
import { api } from '/js/api.js';
import { el } from '/js/ui.js';
export function euros(cents) {
  const v = Number(cents) || 0;
  return `${(v / 100).toLocaleString('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} €`;
}

export const STATUS = { received: 'Reçu', processing: 'En cours', paid: 'Payé', rejected: 'Rejeté' };

export const CLAIM_STATUS = {
  submitted: 'Envoyée', in_review: 'En cours de traitement', needs_document: 'Justificatif demandé',
  approved: 'Acceptée', rejected: 'Refusée', withdrawn: 'Retirée',
};

// The member ("Moi", value "me") and their beneficiaries (the core's, GET
// /api/v1/reimbursements/beneficiaries) as options of a select, after the
// options already there (the list's "Tous").
export async function fillBeneficiaries(select) {
  const { items } = await api.get('/reimbursements/beneficiaries');
  select.append(...items.map((b) => el('option', { value: b.id === null ? 'me' : String(b.id) }, b.label)));
}
