// Shared words of the coverage pages.
export const CSS = {
  none: 'Aucune',
  free: 'Complémentaire santé solidaire sans participation',
  participation: 'Complémentaire santé solidaire avec participation',
};
export const CARD = {
  active: 'Active', lost: 'Déclarée perdue', stolen: 'Déclarée volée', defective: 'Défectueuse',
  ordered: 'Commandée', in_production: 'En fabrication', sent: 'Envoyée',
};
export const RELATION = { child: 'Enfant', spouse: 'Conjoint(e)' };
