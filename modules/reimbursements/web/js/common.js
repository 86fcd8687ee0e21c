// Shared by the reimbursements pages: amounts and labels in French.
import { api } from '/js/api.js';
import { el } from '/js/ui.js';
import { tx } from '/js/textes.js';
export function euros(cents) {
  const v = Number(cents) || 0;
  return `${(v / 100).toLocaleString('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} €`;
}

export const STATUS = { received: tx('reimbursements.common.recu'), processing: tx('reimbursements.common.cours'), paid: tx('reimbursements.common.paye'), rejected: tx('commun.rejete') };

export const CLAIM_STATUS = {
  submitted: tx('commun.envoyee'), in_review: tx('reimbursements.common.cours_traitement'), needs_document: tx('commun.justificatif_demande'),
  approved: tx('reimbursements.common.acceptee'), rejected: tx('commun.refusee'), withdrawn: tx('reimbursements.common.retiree'),
};

// The member ("Moi", value "me") and their beneficiaries (the core's, GET
// /api/v1/reimbursements/beneficiaries) as options of a select, after the
// options already there (the list's "Tous").
export async function fillBeneficiaries(select) {
  const { items } = await api.get('/reimbursements/beneficiaries');
  select.append(...items.map((b) => el('option', { value: b.id === null ? 'me' : String(b.id) }, b.label)));
}
