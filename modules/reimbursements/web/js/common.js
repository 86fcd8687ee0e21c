// Shared by the reimbursements pages: amounts and labels in French.
export function euros(cents) {
  const v = Number(cents) || 0;
  return `${(v / 100).toLocaleString('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} €`;
}

export const STATUS = { received: 'Reçu', processing: 'En cours', paid: 'Payé', rejected: 'Rejeté' };

export const CLAIM_STATUS = {
  submitted: 'Envoyée', in_review: 'En cours de traitement', needs_document: 'Justificatif demandé',
  approved: 'Acceptée', rejected: 'Refusée', withdrawn: 'Retirée',
};
