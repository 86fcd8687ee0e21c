// New message: a recipient of the list, a subject, a body with its
// character count, attachments checked (type, size, count) before sending.
import { api } from '/js/api.js';
import {
  el, requireMember, showAlert, showFieldErrors, showPageError,
} from '/js/ui.js';
import { bindCounter, checkFiles, postForm } from './send.js';
import { tx } from '/js/textes.js';

await requireMember();

const status = document.getElementById('statut');
const form = document.getElementById('nouveau');
const files = document.getElementById('fichiers');
const select = document.getElementById('recipient');

bindCounter(document.getElementById('body'), document.getElementById('body-compte'));
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const problem = checkFiles([...files.files]);
  if (problem) {
    showAlert(status, 'error', tx('commun.pieces_jointes_refusees'), problem, { focus: true });
    return;
  }
  const data = new FormData();
  for (const k of ['recipient', 'subject', 'body']) data.append(k, form.elements[k].value);
  for (const f of files.files) data.append('fichiers', f, f.name);
  try {
    const t = await postForm('/messages', data, document.getElementById('progression'));
    window.location.assign(`/messaging/thread.html?id=${t.id}`);
  } catch (err) {
    if (err.status === 422 && err.fieldErrors.some((e) => form.elements[e.field])) showFieldErrors(form, err.fieldErrors);
    else showPageError(status, err);
  }
});
try {
  const r = await api.get('/messages/recipients');
  select.append(...r.recipients.filter((x) => x.open).map((x) => el('option', { value: x.code }, x.label)));
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
