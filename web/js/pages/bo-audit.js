// Back office: the audit log (supervisors only).
import { ApiError, api } from '../api.js';
import { actionLabel } from '../events.js';
import {
  bindForm, el, formatDateTime, parseFrenchDate, requireAgent, showAlert,
} from '../ui.js';

await requireAgent();

const status = document.getElementById('statut');
const table = document.getElementById('tableau-audit');
const body = document.getElementById('audit');
const more = document.getElementById('plus-audit');
const form = document.getElementById('formulaire');
let filters = {};
let nextCursor = null;

async function load(reset) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  if (!reset && nextCursor) q.set('cursor', nextCursor);
  const r = await api.get(`/backoffice/audit?${q}`);
  const rows = (r.entries || []).map((e) => el('tr', {},
    el('td', { class: 'portail-nowrap' }, formatDateTime(e.created_at)),
    el('td', {}, e.agent_login),
    el('td', {}, String(e.member_id ?? '—')),
    el('td', {}, actionLabel(e.action)),
    el('td', {}, e.reason || ''),
    el('td', {}, e.ip || '—')));
  if (reset) body.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '6' }, 'Aucune entrée pour ces critères.'))]));
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
      showAlert(status, 'warning', 'Réservé aux superviseurs', 'Le journal d’audit n’est accessible qu’aux superviseurs.', { focus: true });
      return;
    }
    throw err;
  }
}

const dateCheck = (text) => (!text.trim() || parseFrenchDate(text) ? null : 'Saisissez la date au format jj/mm/aaaa.');

bindForm(form, async (v) => {
  filters = {
    agent: v.agent.trim(),
    member: v.member.trim(),
    from: v.from.trim() ? parseFrenchDate(v.from) : '',
    to: v.to.trim() ? parseFrenchDate(v.to) : '',
  };
  await first();
}, {
  checks: {
    from: dateCheck,
    to: dateCheck,
    member: (text) => (!text.trim() || /^\d+$/.test(text.trim()) ? null : 'Le numéro interne ne comporte que des chiffres.'),
  },
  onLocked: null,
});

more.addEventListener('click', () => load(false).catch((err) => showAlert(status, 'error', 'Chargement impossible', err.message, { focus: true })));

first().catch((err) => showAlert(status, 'error', 'Chargement impossible', err.message, { focus: true }));
