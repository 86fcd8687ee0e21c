// Back office: find a member by NIR, see the lock state and the security
// events, unlock or lock with a reason.
import { ApiError, api } from '../api.js';
import { eventDetail, eventLabel, lockLabel } from '../events.js';
import {
  bindForm, el, formatDate, formatDateTime, formatNir, requireAgent, showAlert,
} from '../ui.js';

await requireAgent();

const fiche = document.getElementById('fiche');
const actionStatus = document.getElementById('action-statut');
const unlockForm = document.getElementById('formulaire-deblocage');
const lockForm = document.getElementById('formulaire-blocage');
const moreEvents = document.getElementById('plus-evenements');
let member = null;
let nextCursor = null;

const nirCheck = (s) => (/^[0-9]{5}([0-9]{2}|2[abAB])[0-9]{8}$/.test(s.replace(/\s+/g, ''))
  ? null : 'Le numéro de sécurité sociale comporte 15 caractères (13 chiffres et une clé de 2 chiffres).');

function dl(pairs) {
  return pairs.flatMap(([k, v]) => [el('dt', { class: 'fr-text--bold' }, k), el('dd', { class: 'fr-mb-1w fr-ml-0' }, v ?? '—')]);
}

function render(m) {
  member = m;
  document.getElementById('identite-titre').textContent = `${m.first_name} ${m.last_name}`;
  document.getElementById('identite').replaceChildren(...dl([
    ['Numéro de sécurité sociale', formatNir(m.nir)],
    ['Date de naissance', formatDate(m.birth_date)],
    ['Adresse e-mail', m.email],
    ['Caisse', m.fund],
  ]));
  const etat = document.getElementById('etat');
  const c = m.counters || {};
  const counters = el('p', { class: 'fr-text--sm' },
    `Erreurs de mot de passe consécutives : ${c.password_failures ?? 0} — erreurs de code de sécurité : ${c.second_factor_failures ?? 0}.`);
  if (m.lock) {
    etat.replaceChildren(
      el('p', {}, el('span', { class: 'fr-badge fr-badge--error' }, 'Compte bloqué')),
      el('dl', {}, ...dl([
        ['Raison', `${lockLabel(m.lock.reason)} — ${m.lock.reason_text || ''}`],
        ['Depuis le', formatDateTime(m.lock.since)],
        ['Par', m.lock.by === 'system' || !m.lock.by ? 'le système' : m.lock.by],
        ...(m.lock.detail ? [['Note interne', m.lock.detail]] : []),
      ])),
      counters);
  } else {
    etat.replaceChildren(el('p', {}, el('span', { class: 'fr-badge fr-badge--success' }, 'Compte actif')), counters);
  }
  unlockForm.hidden = !m.lock;
  lockForm.hidden = !!m.lock;
  const signIns = m.last_sign_ins || [];
  document.getElementById('connexions').replaceChildren(signIns.length
    ? el('ul', {}, signIns.map((s) => el('li', {}, `${formatDateTime(s.at)} — ${s.ip || 'adresse inconnue'}${s.country ? ` (${s.country})` : ''}`)))
    : el('p', {}, 'Aucune connexion enregistrée.'));
  fiche.hidden = false;
}

async function loadEvents(reset) {
  const q = new URLSearchParams({ limit: '20' });
  if (!reset && nextCursor) q.set('cursor', nextCursor);
  const r = await api.get(`/backoffice/members/${encodeURIComponent(member.id)}/events?${q}`);
  const rows = (r.events || []).map((e) => el('tr', {},
    el('td', { class: 'portail-nowrap' }, formatDateTime(e.created_at)),
    el('td', {}, eventLabel(e.kind)),
    el('td', {}, eventDetail(e.kind, e.detail)),
    el('td', {}, e.ip || '—'),
    el('td', {}, e.country || '—')));
  const body = document.getElementById('evenements');
  if (reset) body.replaceChildren(...rows);
  else body.append(...rows);
  if (reset && !rows.length) body.replaceChildren(el('tr', {}, el('td', { colspan: '5' }, 'Aucun événement.')));
  nextCursor = r.next_cursor || null;
  moreEvents.hidden = !nextCursor;
}

async function show(nir) {
  render(await api.get(`/backoffice/members?nir=${encodeURIComponent(nir)}`));
  await loadEvents(true);
}

const searchForm = document.getElementById('formulaire');
bindForm(searchForm, async (v) => {
  actionStatus.replaceChildren();
  fiche.hidden = true;
  try {
    await show(v.nir.replace(/\s+/g, '').toUpperCase());
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      throw new ApiError(422, { errors: [{ field: 'nir', message: 'Aucun assuré ne correspond à ce numéro.' }] });
    }
    throw err;
  }
  document.getElementById('identite-titre').setAttribute('tabindex', '-1');
  document.getElementById('identite-titre').focus();
}, { checks: { nir: nirCheck }, onLocked: null });

const reasonCheck = (s) => {
  const n = [...s.trim()].length;
  return n < 10 || n > 500 ? `Le motif doit comporter de 10 à 500 caractères (${n} saisi${n > 1 ? 's' : ''}).` : null;
};

for (const [form, action, done] of [
  [unlockForm, 'unlock', 'Compte débloqué'],
  [lockForm, 'lock', 'Compte bloqué'],
]) {
  bindForm(form, async (v) => {
    await api.post(`/backoffice/members/${encodeURIComponent(member.id)}/${action}`, { reason: v.reason.trim() });
    form.reset();
    await show(member.nir);
    showAlert(actionStatus, 'success', done, 'L’action est enregistrée dans le journal d’audit et l’assuré a été prévenu par e-mail.', { focus: true });
  }, {
    checks: { reason: reasonCheck },
    messages: { 409: { title: 'Action impossible', text: 'Le compte n’est plus dans l’état affiché : la fiche a été rechargée.' } },
    onLocked: null,
  });
}

moreEvents.addEventListener('click', () => loadEvents(false).catch((err) => showAlert(actionStatus, 'error', 'Chargement impossible', err.message, { focus: true })));
