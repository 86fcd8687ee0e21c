// The lock page: the reason and the steps from GET unlock/status (partial
// session, right password given). Without that session the page keeps its
// general explanation.
import { api, session } from '../api.js';
import { el, showAlert, showLock } from '../ui.js';
import { tx } from '../textes.js';

const reason = document.getElementById('raison');
const steps = document.getElementById('etapes');

const s = await session().catch(() => null);
if (s && s.kind === 'member') {
  try {
    const st = await api.get('/unlock/status');
    if (st.locked) {
      showLock(reason, steps, st);
    } else {
      showAlert(reason, 'success', tx('compte_bloque.compte_plus_bloque'), tx('compte_bloque.pouvez_connecter'), {
        extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, tx('commun.se_connecter')),
      });
      steps.closest('section').hidden = true;
    }
  } catch {
    // No lock details available: the general explanation stays.
  }
}
