// Back office: one thread (its reading is audited and is the member's read
// receipt), take, answer (canned answers of the service), reassign, close.
import { api } from '/js/api.js';
import {
  el, formatDateTime, queryParam, requireAgent, showAlert, showPageError,
} from '/js/ui.js';
import { bindCounter, messageItem } from './send.js';

await requireAgent();

const status = document.getElementById('statut');
const list = document.getElementById('messages');
const id = encodeURIComponent(queryParam('id') || '0');
const base = `/backoffice/messaging/threads/${id}`;
const STATUS = { open: 'À traiter', answered: 'Répondu, en attente de l’assuré', closed: 'Close' };
let canned = [];

const view = {
  attachments: `/api/v1${base}/attachments`,
  author: (member) => (member ? 'L’assuré' : 'La caisse'),
  receipt: (m) => (m.author === 'member' ? null
    : (m.read_at ? `Lu par l’assuré le ${formatDateTime(m.read_at)}` : 'Pas encore lu par l’assuré')),
};

async function load() {
  const t = await api.get(base);
  document.getElementById('sujet').textContent = t.subject;
  document.getElementById('infos').textContent = `${t.service_label} · ${STATUS[t.status] || t.status}${t.overdue ? ' · en retard' : ''}`;
  list.replaceChildren(...t.messages.map((m) => messageItem(m, view)));
  canned = t.service_info ? t.service_info.canned_answers : [];
  const sel = document.getElementById('modele');
  sel.replaceChildren(el('option', { value: '' }, 'Aucune'), ...canned.map((c, i) => el('option', { value: String(i) }, c.split('\n').slice(0, 2).join(' ').slice(0, 80))));
  document.getElementById('reponse').hidden = t.status === 'closed';
  document.getElementById('clore').disabled = t.status === 'closed';
  return t;
}

async function services(current) {
  const r = await api.get('/backoffice/messaging/threads?limit=1');
  document.getElementById('vers').replaceChildren(...r.services.filter((s) => s.code !== current).map((s) => el('option', { value: s.code }, s.label)));
}

async function act(fn, done) {
  try {
    await fn();
    await load();
    showAlert(status, 'success', done, null, { focus: true });
  } catch (err) {
    showPageError(status, err);
  }
}

bindCounter(document.getElementById('body'), document.getElementById('body-compte'));
document.getElementById('modele').addEventListener('change', (ev) => {
  if (ev.target.value !== '') document.getElementById('body').value = canned[Number(ev.target.value)];
});
document.getElementById('prendre').addEventListener('click', () => act(() => api.post(`${base}/take`), 'Conversation attribuée'));
document.getElementById('clore').addEventListener('click', () => act(() => api.post(`${base}/close`), 'Conversation close'));
document.getElementById('reponse').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const area = document.getElementById('body');
  act(async () => {
    await api.post(`${base}/reply`, { body: area.value });
    area.value = '';
  }, 'Réponse envoyée');
});
document.getElementById('transfert').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = ev.target;
  act(() => api.post(`${base}/reassign`, { service: f.elements.service.value, reason: f.elements.reason.value }), 'Conversation transférée');
});
try {
  const t = await load();
  await services(t.service);
} catch (err) {
  showPageError(status, err);
}
