// A conversation: its messages as text (never HTML), their attachments and
// read receipts; opening it marks the fund's answers read. Reply and archive.
import { api } from '/js/api.js';
import {
  el, formatDateTime, queryParam, requireMember, showAlert, showPageError,
} from '/js/ui.js';
import { bindCounter, checkFiles, postForm } from './send.js';

await requireMember();

const status = document.getElementById('statut');
const list = document.getElementById('messages');
const form = document.getElementById('reponse');
const files = document.getElementById('fichiers');
const bar = document.getElementById('progression');
const id = queryParam('id');
const STATUS = { open: 'En attente de réponse', answered: 'Répondu', closed: 'Clos' };

function sizeText(n) {
  return n >= 1024 * 1024 ? `${(n / 1048576).toFixed(1)} Mo` : `${Math.max(1, Math.round(n / 1024))} Ko`;
}

function message(m) {
  const mine = m.author === 'member';
  // The body is plain text: textContent only, line breaks kept by CSS class.
  const body = el('p', { class: 'portail-message__corps' });
  body.textContent = m.body;
  const receipt = mine
    ? (m.read_at ? `Lu par votre caisse le ${formatDateTime(m.read_at)}` : 'Pas encore lu par votre caisse')
    : null;
  return el('li', { class: `portail-message portail-message--${mine ? 'assure' : 'caisse'}`, 'data-id': String(m.id) },
    el('h2', { class: 'fr-h6 fr-mb-1v' }, mine ? 'Vous' : 'Votre caisse'),
    el('p', { class: 'fr-text--sm fr-mb-1v' }, `Envoyé le ${formatDateTime(m.sent_at)}`),
    body,
    m.attachments.length ? el('ul', { class: 'portail-pieces' }, m.attachments.map((a) => el('li', {},
      el('a', { href: `/api/v1/messages/${id}/attachments/${a.id}`, download: a.name }, `${a.name} (${a.type.toUpperCase()}, ${sizeText(a.size)})`)))) : null,
    receipt ? el('p', { class: 'fr-text--xs fr-mb-0 portail-accuse' }, receipt) : null);
}

async function load() {
  const t = await api.get(`/messages/${encodeURIComponent(id || '0')}`);
  document.getElementById('sujet').textContent = t.subject;
  document.title = `${t.subject} — Ma messagerie — Portail — Assurance Maladie`;
  document.getElementById('infos').textContent = `${t.service_label} · ${STATUS[t.status] || t.status}`;
  list.replaceChildren(...t.messages.map(message));
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
