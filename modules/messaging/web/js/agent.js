// Back office: the threads by service and filter, overdue ones flagged.
import { api } from '/js/api.js';
import { el, formatDateTime, requireAgent, showPageError } from '/js/ui.js';

await requireAgent();

const status = document.getElementById('statut');
const body = document.getElementById('conversations');
const more = document.getElementById('plus');
const form = document.getElementById('filtres');
const STATUS = { open: 'À traiter', answered: 'Répondu', closed: 'Clos' };
let cursor = null;
let servicesShown = false;

function row(t) {
  return el('tr', { 'data-id': String(t.id) },
    el('td', {}, el('a', { href: `/messaging/agent-thread.html?id=${t.id}` }, t.subject),
      t.unread ? el('span', { class: 'fr-badge fr-badge--sm fr-badge--new fr-ml-1w' }, 'Non lu') : null),
    el('td', {}, t.service_label),
    el('td', {}, STATUS[t.status] || t.status),
    el('td', {}, formatDateTime(t.last_activity_at)),
    el('td', {}, t.overdue ? el('span', { class: 'fr-badge fr-badge--sm fr-badge--error' }, 'En retard') : '—'));
}

async function page(reset) {
  if (reset) cursor = null;
  const params = new URLSearchParams({ limit: '20', filter: form.elements.filter.value });
  if (form.elements.service.value) params.set('service', form.elements.service.value);
  const age = Number(form.elements.older_than_hours.value || 0);
  if (age > 0) params.set('older_than_hours', String(age));
  if (cursor) params.set('cursor', cursor);
  const r = await api.get(`/backoffice/messaging/threads?${params}`);
  if (!servicesShown) {
    form.elements.service.append(...r.services.map((s) => el('option', { value: s.code }, s.label)));
    servicesShown = true;
  }
  if (reset) body.replaceChildren();
  if (reset && !r.threads.length) body.append(el('tr', {}, el('td', { colspan: '5' }, 'Aucune conversation.')));
  else body.append(...r.threads.map(row));
  cursor = r.next_cursor;
  more.hidden = !cursor;
}

async function run(reset) {
  try {
    await page(reset);
  } catch (err) {
    showPageError(status, err);
  }
}
form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  run(true);
});
more.addEventListener('click', () => run(false));
await run(true);
