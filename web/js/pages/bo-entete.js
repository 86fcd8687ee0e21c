// Back office, every signed-in page: the agent's own name (and role) in the
// header (partials/outils-agent-connecte.html), from GET /api/v1/backoffice/me.
// The DSFR copies the header's tools into the phone menu: every copy is filled.
import { api } from '../api.js';
import { tx } from '../textes.js';

const ROLES = { agent: tx('bo.entete.agent'), supervisor: tx('bo.entete.superviseur') };

api.get('/backoffice/me').then((me) => {
  if (!me?.display_name) return;
  const text = `${me.display_name}${ROLES[me.role] ? ` (${ROLES[me.role]})` : ''}`;
  const fill = () => {
    for (const p of document.querySelectorAll('[data-agent-nom]')) {
      p.textContent = text;
      p.hidden = false;
    }
  };
  fill();
  // The copy for the phone menu may be made after this ran.
  setTimeout(fill, 500);
}).catch(() => {});
