// Back office: the audit log (supervisors only): who did what on whose
// account, with the member's name and NIR linked to their file, and the CSV
// export of the same filters; a table on a desktop, cards on a phone. /backoffice/audit.html#compte=ID (from a
// member's file) filters on that account.
import { ApiError, api } from '../api.js';
import { actionLabel } from '../events.js';
import {
  bindForm, el, formatDateTimeSeconds, formatNir, parseFrenchDate, requireAgent, showAlert,
} from '../ui.js';
import { cardRows, nirCheck } from './bo-commun.js';
import { tx } from '../textes.js';

await requireAgent();

const status = document.getElementById('statut');
const table = document.getElementById('tableau-audit');
const body = document.getElementById('audit');
const more = document.getElementById('plus-audit');
const form = document.getElementById('formulaire');
const exportLink = document.getElementById('export');
const accountFilter = document.getElementById('filtre-compte');
let filters = {};
let nextCursor = null;

const fromFile = /^#compte=(\d{1,18})$/.exec(window.location.hash);
if (fromFile) {
  filters.member = fromFile[1];
  accountFilter.textContent = tx('bo.audit.filtre_compte');
  accountFilter.hidden = false;
}

function query() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  return q;
}

function who(e) {
  if (!e.member_id) return '—';
  if (!e.member_nir) return tx('bo.audit.compte_numero', { id: e.member_id });
  const name = `${e.member_first_name || ''} ${e.member_last_name || ''}`.trim();
  return el('a', { href: `/backoffice/recherche.html#nir=${encodeURIComponent(e.member_nir)}` },
    name || tx('bo.audit.assure'), el('br'), el('span', { class: 'portail-nowrap' }, formatNir(e.member_nir)));
}

async function load(reset) {
  const q = query();
  exportLink.href = `/api/v1/backoffice/audit/export?${q}`;
  if (!reset && nextCursor) q.set('cursor', nextCursor);
  const r = await api.get(`/backoffice/audit?${q}`);
  const rows = cardRows(table.querySelector('table'), r.entries || [], (e) => [
    formatDateTimeSeconds(e.created_at),
    e.agent_name ? `${e.agent_name} (${e.agent_login})` : e.agent_login,
    who(e),
    actionLabel(e.action),
    e.reason || '',
    e.ip || '—',
  ]);
  if (reset) body.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '6' }, tx('bo.audit.aucune_entree')))]));
  else body.append(...rows);
  table.hidden = false;
  nextCursor = r.next_cursor || null;
  more.hidden = !nextCursor;
}

async function first() {
  try {
    await load(true);
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) {
      form.hidden = true;
      showAlert(status, 'warning', tx('bo.audit.reserve_superviseurs'), tx('bo.audit.reserve_superviseurs_texte'), { focus: true });
      return;
    }
    throw err;
  }
}

const dateCheck = (text) => (!text.trim() || parseFrenchDate(text) ? null : tx('bo.audit.date_format'));

bindForm(form, async (v) => {
  accountFilter.hidden = true;
  if (window.location.hash) window.history.replaceState(null, '', window.location.pathname);
  filters = {
    agent: v.agent.trim(),
    nir: v.nir.replace(/\s+/g, '').toUpperCase(),
    from: v.from.trim() ? parseFrenchDate(v.from) : '',
    to: v.to.trim() ? parseFrenchDate(v.to) : '',
  };
  await first();
}, {
  checks: {
    from: dateCheck,
    to: dateCheck,
    nir: (text) => nirCheck(text, { emptyOk: true }),
  },
  onLocked: null,
});

more.addEventListener('click', () => load(false).catch((err) => showAlert(status, 'error', tx('bo.commun.chargement_impossible'), err.message, { focus: true })));

first().catch((err) => showAlert(status, 'error', tx('bo.commun.chargement_impossible'), err.message, { focus: true }));
