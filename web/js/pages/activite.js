// The account's activity: the member's own security events (GET
// /api/v1/account/activity), newest first, page by page.
import { api } from '../api.js';
import { describeDevice, el, formatDateTime, requireMember, showPageError } from '../ui.js';
import { tx } from '../textes.js';

const status = document.getElementById('statut');
const body = document.getElementById('activite');
const more = document.getElementById('plus');
let cursor = null;
await requireMember();

async function load(append) {
  const q = cursor ? `?limit=20&cursor=${encodeURIComponent(cursor)}` : '?limit=20';
  const { events, next_cursor: next } = await api.get(`/account/activity${q}`);
  const rows = events.map((e) => el('tr', {},
    el('td', { class: 'portail-nowrap' }, formatDateTime(e.at)),
    el('td', {}, e.label),
    el('td', {}, e.user_agent ? describeDevice(e.user_agent) : '—'),
    el('td', {}, e.ip || '—'),
    el('td', {}, e.country || '—')));
  if (append) body.append(...rows);
  else body.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 5 }, tx('commun.aucun_evenement')))]));
  cursor = next;
  more.hidden = !next;
}

more.addEventListener('click', async () => {
  more.disabled = true;
  try {
    await load(true);
  } catch (err) {
    showPageError(status, err);
  } finally {
    more.disabled = false;
  }
});

try {
  await load(false);
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
