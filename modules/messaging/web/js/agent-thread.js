// Back office: one thread (its reading is audited and is the member's read
// receipt), take, answer (canned answers of the service), reassign, close.
import { api } from '/js/api.js';
import {
  el, formatDateTime, queryParam, requireAgent, showAlert, showPageError,
} from '/js/ui.js';
import { bindCounter, messageItem } from './send.js';
import { tx } from '/js/textes.js';

await requireAgent();

const status = document.getElementById('statut');
const list = document.getElementById('messages');
const id = encodeURIComponent(queryParam('id') || '0');
const base = `/backoffice/messaging/threads/${id}`;
const STATUS = { open: tx('commun.a_traiter'), answered: tx('messaging.agent_thread.repondu_attente_assure'), closed: tx('messaging.agent_thread.close') };
let canned = [];

const view = {
  attachments: `/api/v1${base}/attachments`,
  author: (member) => (member ? tx('messaging.agent_thread.assure') : tx('messaging.agent_thread.caisse')),
  receipt: (m) => (m.author === 'member' ? null
    : (m.read_at ? tx('messaging.agent_thread.lu_assure_read_at', { read_at: formatDateTime(m.read_at) }) : tx('messaging.agent_thread.encore_lu_assure'))),
};

async function load() {
  const t = await api.get(base);
  document.getElementById('sujet').textContent = t.subject;
  document.getElementById('infos').textContent = `${t.service_label} · ${STATUS[t.status] || t.status}${t.overdue ? ' · en retard' : ''}`;
  list.replaceChildren(...t.messages.map((m) => messageItem(m, view)));
  canned = t.service_info ? t.service_info.canned_answers : [];
  const sel = document.getElementById('modele');
  sel.replaceChildren(el('option', { value: '' }, tx('commun.aucune')), ...canned.map((c, i) => el('option', { value: String(i) }, c.split('\n').slice(0, 2).join(' ').slice(0, 80))));
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
document.getElementById('prendre').addEventListener('click', () => act(() => api.post(`${base}/take`), tx('messaging.agent_thread.conversation_attribuee')));
document.getElementById('clore').addEventListener('click', () => act(() => api.post(`${base}/close`), tx('commun.conversation_close')));
document.getElementById('reponse').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const area = document.getElementById('body');
  act(async () => {
    await api.post(`${base}/reply`, { body: area.value });
    area.value = '';
  }, tx('messaging.agent_thread.reponse_envoyee'));
});
document.getElementById('transfert').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = ev.target;
  act(() => api.post(`${base}/reassign`, { service: f.elements.service.value, reason: f.elements.reason.value }), tx('messaging.agent_thread.conversation_transferee'));
});
try {
  const t = await load();
  await services(t.service);
} catch (err) {
  showPageError(status, err);
}
