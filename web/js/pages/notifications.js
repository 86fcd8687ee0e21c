// Notifications: the list (newest first, by pages), mark one or all read,
// and the mail preferences per kind.
import { api } from '../api.js';
import { renderBell } from '../portal.js';
import {
  el, formatDateTime, localHref, requireMember, showAlert, showPageError,
} from '../ui.js';
import { tx, txn } from '../textes.js';

await requireMember();

const status = document.getElementById('statut');
const list = document.getElementById('notifications');
const more = document.getElementById('plus');
const allRead = document.getElementById('tout-lu');
const count = document.getElementById('compte-non-lues');
let cursor = null;

function showUnread(n) {
  count.textContent = n ? txn('notifications.non_lues', n) : tx('notifications.aucune_notification_non_lue');
  allRead.disabled = !n;
  renderBell({ unread: n });
}

function item(n) {
  const read = el('button', { class: 'fr-btn fr-btn--sm fr-btn--tertiary', type: 'button' }, tx('notifications.marquer_comme_lue'));
  read.hidden = n.read;
  read.addEventListener('click', async () => {
    try {
      const r = await api.post(`/notifications/${n.id}/read`);
      read.hidden = true;
      li.classList.remove('portail-non-lue');
      li.querySelector('.fr-badge')?.remove();
      showUnread(r.unread);
    } catch (err) {
      showPageError(status, err);
    }
  });
  const link = localHref(n.link);
  const li = el('li', { class: `portail-notification${n.read ? '' : ' portail-non-lue'}`, 'data-id': String(n.id) },
    el('h3', { class: 'fr-h6 fr-mb-1v' }, link ? el('a', { href: link }, n.title) : n.title,
      n.read ? null : el('span', { class: 'fr-badge fr-badge--sm fr-badge--new fr-ml-1w' }, tx('notifications.nouveau'))),
    n.text ? el('p', { class: 'fr-mb-1v' }, n.text) : null,
    el('p', { class: 'fr-text--sm fr-mb-1v' }, tx('notifications.recue_le', { created: formatDateTime(n.created) })),
    read);
  return li;
}

async function page() {
  const q = cursor ? `?limit=20&cursor=${cursor}` : '?limit=20';
  const r = await api.get(`/notifications${q}`);
  if (!cursor && !r.items.length) list.replaceChildren(el('li', {}, tx('notifications.avez_aucune_notification')));
  else list.append(...r.items.map(item));
  cursor = r.next_cursor;
  more.hidden = !cursor;
  showUnread(r.unread);
}

allRead.addEventListener('click', async () => {
  try {
    await api.post('/notifications/read-all');
    list.querySelectorAll('.portail-non-lue').forEach((li) => {
      li.classList.remove('portail-non-lue');
      li.querySelector('.fr-badge')?.remove();
      li.querySelector('button').hidden = true;
    });
    showUnread(0);
    showAlert(status, 'success', tx('notifications.fait'), tx('notifications.toutes_notifications_marquees_comme'));
  } catch (err) {
    showPageError(status, err);
  }
});
more.addEventListener('click', () => page().catch((err) => showPageError(status, err)));

const form = document.getElementById('preferences');
const choices = document.getElementById('choix');
function renderPrefs(kinds) {
  const legend = choices.querySelector('legend');
  const boxes = kinds.map((k, i) => el('div', { class: 'fr-fieldset__element' },
    el('div', { class: 'fr-checkbox-group' },
      el('input', { type: 'checkbox', id: `pref-${i}`, name: k.kind, ...(k.mail ? { checked: '' } : {}) }),
      el('label', { class: 'fr-label', for: `pref-${i}` }, k.label))));
  choices.replaceChildren(legend, ...(boxes.length ? boxes : [el('p', {}, tx('notifications.aucun_service_envoie_notification'))]));
}
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const kinds = [...choices.querySelectorAll('input[type=checkbox]')].map((c) => ({ kind: c.name, mail: c.checked }));
  const out = document.getElementById('preferences-statut');
  try {
    const r = await api.put('/notifications/preferences', { kinds });
    renderPrefs(r.kinds);
    showAlert(out, 'success', tx('notifications.choix_enregistres'), tx('notifications.preferences_courriel_enregistrees'), { focus: true });
  } catch (err) {
    showPageError(out, err);
  }
});

try {
  await page();
  renderPrefs((await api.get('/notifications/preferences')).kinds);
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
