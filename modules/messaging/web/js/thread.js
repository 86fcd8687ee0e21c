// A conversation: its messages as text (never HTML), their attachments and
// read receipts; opening it marks the fund's answers read. Reply and archive.
import { api } from '/js/api.js';
import {
  formatDateTime, queryParam, requireMember, setTitle, showAlert, showPageError,
} from '/js/ui.js';
import {
  bindCounter, checkFiles, messageItem, postForm,
} from './send.js';

await requireMember();

const status = document.getElementById('statut');
const list = document.getElementById('messages');
const form = document.getElementById('reponse');
const files = document.getElementById('fichiers');
const bar = document.getElementById('progression');
const id = queryParam('id');
const STATUS = { open: 'En attente de réponse', answered: 'Répondu', closed: 'Clos' };

const view = {
  attachments: `/api/v1/messages/${id}/attachments`,
  author: (member) => (member ? 'Vous' : 'Votre caisse'),
  receipt: (m) => (m.author !== 'member' ? null
    : (m.read_at ? `Lu par votre caisse le ${formatDateTime(m.read_at)}` : 'Pas encore lu par votre caisse')),
};

async function load() {
  const t = await api.get(`/messages/${encodeURIComponent(id || '0')}`);
  document.getElementById('sujet').textContent = t.subject;
  setTitle(t.subject, 'Ma messagerie');
  document.getElementById('infos').textContent = `${t.service_label} · ${STATUS[t.status] || t.status}`;
  list.replaceChildren(...t.messages.map((m) => messageItem(m, view)));
  form.hidden = t.status === 'closed';
  if (t.status === 'closed') showAlert(status, 'info', 'Conversation close', 'Pour une nouvelle demande, écrivez un nouveau message.');
}

bindCounter(document.getElementById('body'), document.getElementById('body-compte'));
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const problem = checkFiles([...files.files]);
  if (problem) {
    showAlert(status, 'error', 'Pièces jointes refusées', problem, { focus: true });
    return;
  }
  const data = new FormData();
  data.append('body', document.getElementById('body').value);
  for (const f of files.files) data.append('fichiers', f, f.name);
  try {
    await postForm(`/messages/${encodeURIComponent(id)}/reply`, data, bar);
    form.reset();
    await load();
    showAlert(status, 'success', 'Message envoyé', 'Votre réponse a été envoyée à votre caisse.', { focus: true });
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
