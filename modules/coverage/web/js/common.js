// Shared words of the coverage pages.
import { tx } from '/js/textes.js';
export const CSS = {
  none: tx('commun.aucune'),
  free: tx('coverage.common.complementaire_sante_solidaire_sans'),
  participation: tx('coverage.common.complementaire_sante_solidaire_participation'),
};
export const CARD = {
  active: tx('coverage.common.active'), lost: tx('coverage.common.declaree_perdue'), stolen: tx('coverage.common.declaree_volee'), defective: tx('coverage.common.defectueuse'),
  ordered: tx('coverage.common.commandee'), in_production: tx('coverage.common.fabrication'), sent: tx('commun.envoyee'),
};
export const RELATION = { child: tx('coverage.common.enfant'), spouse: 'Conjoint(e)' };
