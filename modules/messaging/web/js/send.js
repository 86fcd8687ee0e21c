// Multipart sends of the messaging pages (files with a progress bar), with
// the CSRF token of the session (web/js/api.js) and its ApiError on failure;
// and the one rendering of a message for the member's and the agent's views.
import { ApiError, session } from '/js/api.js';
import { el, formatDateTime } from '/js/ui.js';

export const MAX_FILES = 5;
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
const TYPES = new Set(['application/pdf', 'image/jpeg', 'image/png']);

/** The French problem of the chosen files, or null when they may be sent. */
export function checkFiles(files) {
  if (files.length > MAX_FILES) return `Joignez au plus ${MAX_FILES} fichiers.`;
  for (const f of files) {
    if (!TYPES.has(f.type)) return `« ${f.name} » n’est ni un PDF, ni une image JPEG ou PNG.`;
    if (f.size > MAX_FILE_BYTES) return `« ${f.name} » dépasse 5 Mo.`;
    if (f.size === 0) return `« ${f.name} » est vide.`;
  }
  return null;
}

/** POST of a FormData to /api/v1 + path; progress (0..100) on the bar. */
export async function postForm(path, form, bar) {
  const s = await session({ refresh: true });
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1${path}`);
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    if (s && s.csrf_token) xhr.setRequestHeader('X-CSRF-Token', s.csrf_token);
    if (bar) {
      bar.hidden = false;
      bar.value = 0;
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) {
          bar.value = Math.round((e.loaded * 100) / e.total);
          bar.textContent = `${bar.value} %`;
        }
      });
    }
    xhr.addEventListener('load', () => {
      if (bar) bar.hidden = true;
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else {
        const ra = Number(xhr.getResponseHeader('Retry-After'));
        reject(new ApiError(xhr.status, data, Number.isFinite(ra) && ra > 0 ? ra : null));
      }
    });
    xhr.addEventListener('error', () => {
      if (bar) bar.hidden = true;
      reject(new ApiError(0, { title: 'Service injoignable', detail: 'Le service ne répond pas. Vérifiez votre connexion à Internet puis réessayez.' }, null));
    });
    xhr.send(form);
  });
}

/** "1 234 / 10 000 caractères" under a textarea. */
export function bindCounter(area, out) {
  const show = () => {
    const n = [...area.value].length;
    out.textContent = `${n.toLocaleString('fr-FR')} / 10 000 caractères`;
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
    el('p', { class: 'fr-text--sm fr-mb-1v' }, `Envoyé le ${formatDateTime(m.sent_at)}`),
    body,
    m.attachments.length ? el('ul', { class: 'portail-pieces' }, m.attachments.map((a) => el('li', {},
      el('a', { href: `${attachments}/${a.id}`, download: a.name }, `${a.name} (${a.type.toUpperCase()}, ${sizeText(a.size)})`)))) : null,
    r ? el('p', { class: 'fr-text--xs fr-mb-0 portail-accuse' }, r) : null);
}
