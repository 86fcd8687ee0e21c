// Multipart sends of the messaging pages: the files checked, then sent by
// web/js/api.js (postForm) with a progress bar; and the one rendering of a
// message for the member's and the agent's views.
import { api } from '/js/api.js';
import { el, formatDateTime } from '/js/ui.js';
import { tx } from '/js/textes.js';

export const MAX_FILES = 5;
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
const TYPES = new Set(['application/pdf', 'image/jpeg', 'image/png']);

/** The French problem of the chosen files, or null when they may be sent. */
export function checkFiles(files) {
  if (files.length > MAX_FILES) return tx('messaging.send.joignez_au_plus', { max: MAX_FILES });
  for (const f of files) {
    if (!TYPES.has(f.type)) return tx('messaging.send.fichier_type_refuse', { name: f.name });
    if (f.size > MAX_FILE_BYTES) return tx('commun.fichier_depasse_5_mo', { name: f.name });
    if (f.size === 0) return tx('messaging.send.fichier_vide', { name: f.name });
  }
  return null;
}

/** POST of a FormData to /api/v1 + path; progress (0..100) on the bar. */
export async function postForm(path, form, bar) {
  if (!bar) return api.postForm(path, form);
  bar.hidden = false;
  bar.value = 0;
  try {
    return await api.postForm(path, form, (pct) => {
      bar.value = pct;
      bar.textContent = `${pct} %`;
    });
  } finally {
    bar.hidden = true;
  }
}

/** "1 234 / 10 000 caractères" under a textarea. */
export function bindCounter(area, out) {
  const show = () => {
    const n = [...area.value].length;
    out.textContent = tx('messaging.send.compteur', { n: n.toLocaleString('fr-FR') });
  };
  area.addEventListener('input', show);
  show();
}

function sizeText(n) {
  return n >= 1024 * 1024 ? `${(n / 1048576).toFixed(1)} Mo` : `${Math.max(1, Math.round(n / 1024))} Ko`;
}

/** A message as an <li>: the body as text (never HTML, line breaks kept by
 * the CSS class), its attachments (links under attachments/), who wrote it
 * (author(isMember)) and its read receipt (receipt(m), null for none). */
export function messageItem(m, { attachments, author, receipt }) {
  const member = m.author === 'member';
  const body = el('p', { class: 'portail-message__corps' });
  body.textContent = m.body;
  const r = receipt(m);
  return el('li', { class: `portail-message portail-message--${member ? 'assure' : 'caisse'}`, 'data-id': String(m.id) },
    el('h2', { class: 'fr-h6 fr-mb-1v' }, author(member)),
    el('p', { class: 'fr-text--sm fr-mb-1v' }, tx('messaging.send.envoye_sent_at', { sent_at: formatDateTime(m.sent_at) })),
    body,
    m.attachments.length ? el('ul', { class: 'portail-pieces' }, m.attachments.map((a) => el('li', {},
      el('a', { href: `${attachments}/${a.id}`, download: a.name }, `${a.name} (${a.type.toUpperCase()}, ${sizeText(a.size)})`)))) : null,
    r ? el('p', { class: 'fr-text--xs fr-mb-0 portail-accuse' }, r) : null);
}
