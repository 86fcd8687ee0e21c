// Ma messagerie: the member's threads by box, newest activity first, with
// the unread answers and a search in the member's own threads.
import { api } from '/js/api.js';
import { el, formatDateTime, requireMember, showPageError } from '/js/ui.js';
import { tx, txn } from '/js/textes.js';

await requireMember();

const status = document.getElementById('statut');
const list = document.getElementById('conversations');
const more = document.getElementById('plus');
const unread = document.getElementById('non-lus');
const STATUS = { open: tx('commun.attente_reponse'), answered: tx('commun.repondu'), closed: tx('commun.clos') };
let box = 'inbox';
let q = '';
let cursor = null;

function item(t) {
  const li = el('li', { class: `portail-conversation${t.unread ? ' portail-non-lue' : ''}`, 'data-id': String(t.id) },
    el('h2', { class: 'fr-h6 fr-mb-1v' },
      el('a', { href: `/messaging/thread.html?id=${t.id}` }, t.subject),
      t.unread ? el('span', { class: 'fr-badge fr-badge--sm fr-badge--new fr-ml-1w' }, txn('messaging.index.non_lus', t.unread)) : null),
    el('p', { class: 'fr-text--sm fr-mb-1v' },
      tx('messaging.index.resume', { service: t.service_label, etat: STATUS[t.status] || t.status, date: formatDateTime(t.last_activity_at) })));
  return li;
}

async function page(reset) {
  if (reset) cursor = null;
  const params = new URLSearchParams({ box, limit: '20' });
  if (q) params.set('q', q);
  if (cursor) params.set('cursor', cursor);
  const r = await api.get(`/messages?${params}`);
  if (reset) list.replaceChildren();
  if (reset && !r.threads.length) list.append(el('li', {}, q ? tx('messaging.index.aucune_conversation_correspond_recherche') : tx('commun.aucune_conversation')));
  else list.append(...r.threads.map(item));
  cursor = r.next_cursor;
  more.hidden = !cursor;
  unread.textContent = r.unread ? txn('messaging.index.reponses_non_lues', r.unread) : tx('messaging.index.aucune_reponse_non_lue');
}

async function run(reset) {
  try {
    await page(reset);
  } catch (err) {
    if (err.status === 401) window.location.replace('/connexion.html');
    else showPageError(status, err);
  }
}

document.getElementById('boites').addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-box]');
  if (!b) return;
  box = b.dataset.box;
  for (const x of document.querySelectorAll('#boites button')) {
    const on = x === b;
    x.setAttribute('aria-pressed', String(on));
    x.classList.toggle('fr-btn--secondary', !on);
  }
  run(true);
});
document.getElementById('recherche').addEventListener('submit', (ev) => {
  ev.preventDefault();
  q = document.getElementById('q').value.trim();
  run(true);
});
more.addEventListener('click', () => run(false));
await run(true);
