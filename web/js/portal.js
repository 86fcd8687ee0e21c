// The frame of the signed-in pages, from GET /api/v1/portal: the menu of the
// enabled modules (the back office's filtered by the agent's permissions, so
// an agent never sees a link it cannot use) and, for a member, the
// notification bell with the unread count. The header of the signed-in
// pages (partials/entete.html) loads this module, which draws the frame
// itself: a page imports it only to redraw the bell (renderBell).
import { api } from './api.js';
import { el } from './ui.js';
import { tx, txn } from './textes.js';

function current(href) {
  return window.location.pathname === href || window.location.pathname === `${href}index.html`;
}

/** The menu items as links of the header's navigation (#navigation). */
function renderMenu(portal) {
  const nav = document.getElementById('navigation');
  if (!nav || !portal) return;
  const items = portal.items || [];
  nav.hidden = items.length === 0;
  nav.querySelector('ul').replaceChildren(...items.map((i) => el('li', { class: 'fr-nav__item' },
    el('a', { class: 'fr-nav__link', href: i.href, 'data-module': i.module, ...(current(i.href) ? { 'aria-current': 'page' } : {}) }, i.label, badge(i.badge)))));
}

// A module's count next to its entry (e.g. "Ma messagerie 2"), read as
// "2 non lus" by screen readers.
function badge(n) {
  if (!Number.isInteger(n) || n <= 0) return null;
  return el('span', { class: 'fr-badge fr-badge--sm fr-badge--info fr-ml-1w', 'data-badge': String(n) },
    String(n), el('span', { class: 'fr-sr-only' }, txn('portal.badge_non_lus', n)));
}

/** The bell (#cloche): "Notifications" with the unread count. */
export function renderBell(portal) {
  const bell = document.getElementById('cloche');
  if (!bell || !portal || !Number.isFinite(portal.unread)) return;
  const n = portal.unread;
  bell.textContent = n ? txn('portal.cloche_non_lues', n) : tx('portal.notifications');
  bell.dataset.unread = String(n);
}

// Without the portal (it failed) the page still works, with no menu.
api.get('/portal').catch(() => null).then((portal) => {
  renderMenu(portal);
  renderBell(portal);
});
