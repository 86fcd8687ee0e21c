// A conversation: its messages as text (never HTML), their attachments and
// read receipts; opening it marks the fund's answers read. Reply and archive.
import { api } from '/js/api.js';
import {
  formatDateTime, queryParam, requireMember, setTitle, showAlert, showPageError,
} from '/js/ui.js';
import {
  bindCounter, checkFiles, messageItem, postForm,
} from './send.js';
import { tx } from '/js/textes.js';

await requireMember();

const status = document.getElementById('statut');
const list = document.getElementById('messages');
const form = document.getElementById('reponse');
const files = document.getElementById('fichiers');
const bar = document.getElementById('progression');
const id = queryParam('id');
const STATUS = { open: tx('commun.attente_reponse'), answered: tx('commun.repondu'), closed: tx('commun.clos') };

const view = {
  attachments: `/api/v1/messages/${id}/attachments`,
  author: (member) => (member ? tx('messaging.thread.vous') : tx('messaging.thread.caisse')),
  receipt: (m) => (m.author !== 'member' ? null
    : (m.read_at ? tx('messaging.thread.lu_caisse_read_at', { read_at: formatDateTime(m.read_at) }) : tx('messaging.thread.encore_lu_caisse'))),
};

async function load() {
  const t = await api.get(`/messages/${encodeURIComponent(id || '0')}`);
  document.getElementById('sujet').textContent = t.subject;
  setTitle(t.subject, tx('messaging.thread.messagerie'));
  document.getElementById('infos').textContent = `${t.service_label} · ${STATUS[t.status] || t.status}`;
  list.replaceChildren(...t.messages.map((m) => messageItem(m, view)));
  form.hidden = t.status === 'closed';
  if (t.status === 'closed') showAlert(status, 'info', tx('commun.conversation_close'), tx('messaging.thread.nouvelle_demande_ecrivez_nouveau'));
}

bindCounter(document.getElementById('body'), document.getElementById('body-compte'));
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const problem = checkFiles([...files.files]);
  if (problem) {
    showAlert(status, 'error', tx('commun.pieces_jointes_refusees'), problem, { focus: true });
    return;
  }
  const data = new FormData();
  data.append('body', document.getElementById('body').value);
  for (const f of files.files) data.append('fichiers', f, f.name);
  try {
    await postForm(`/messages/${encodeURIComponent(id)}/reply`, data, bar);
    form.reset();
    await load();
    showAlert(status, 'success', tx('messaging.thread.message_envoye'), tx('messaging.thread.reponse_ete_envoyee_caisse'), { focus: true });
  } catch (err) {
    showPageError(status, err);
  }
});
document.getElementById('archiver').addEventListener('click', async () => {
  try {
    await api.post(`/messages/${encodeURIComponent(id)}/archive`);
    window.location.assign('/messaging/');
  } catch (err) {
    showPageError(status, err);
  }
});
try {
  await load();
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
