// Home: a signed-in member goes straight to the dashboard; otherwise the
// page promises only the services of the enabled modules (GET health, the
// public list of modules) and hides the blocks of a module that is off
// (data-module). Without the list (service unreachable), the static page
// stays as it is.
import { api, session } from '../api.js';
import { PAGES, el } from '../ui.js';
import { tx } from '../textes.js';

// What each module gives a member, in the words of the home page.
const SERVICES = {
  reimbursements: tx('accueil.suivre_remboursements_envoyer_demande'),
  coverage: tx('accueil.telecharger_attestation_droits_gerer'),
  appointments: tx('accueil.prendre_deplacer_annuler_rendez'),
  messaging: tx('accueil.ecrire_caisse_lire_reponses'),
};

// The session is asked for only when the request carried its cookie
// (marked by nginx, see index.html): a visitor's page makes no 401.
const hasCookie = document.querySelector('meta[name="portail-session"]') !== null;
const s = hasCookie ? await session().catch(() => null) : null;
if (s && s.kind === 'member' && s.level === 'member') {
  window.location.replace(PAGES.dashboard);
} else {
  let modules = null;
  try {
    modules = (await api.get('/health')).modules;
  } catch (err) {
    // 503 (database down) still lists the modules.
    modules = err.problem?.modules ?? null;
  }
  if (Array.isArray(modules)) {
    const names = new Set(modules.map((m) => m.name));
    for (const block of document.querySelectorAll('main [data-module]')) block.hidden = !names.has(block.dataset.module);
    const offered = Object.keys(SERVICES).filter((n) => names.has(n));
    document.getElementById('services').replaceChildren(...offered.map((n, i) => el('li', { 'data-service': n },
      `${SERVICES[n]}${i < offered.length - 1 ? '\u00a0;' : '.'}`)));
    document.getElementById('services-bloc').hidden = offered.length === 0;
  }
}
