// Back office: find an insured person by NIR or by name and birth date (with
// or without an online account), open the file: identity, lock state, the
// history of its locks, the security events; unlock, or lock after a
// confirmation, with a reason. A link #nir=… (from the audit log) opens a file.
import { ApiError, api } from '../api.js';
import {
  actorLabel, eventDetail, eventLabel, lockLabel,
} from '../events.js';
import {
  bindForm, describeDevice, el, formatDate, formatDateTime, formatDateTimeSeconds, formatNir,
  requireAgent, showAlert, showPageError,
} from '../ui.js';
import { cardRows, nirCheck } from './bo-commun.js';
import { tx, txn } from '../textes.js';

const agent = await requireAgent();
const canReadAudit = (agent.permissions || []).includes('audit.read');

const status = document.getElementById('statut');
const results = document.getElementById('resultats');
const fiche = document.getElementById('fiche');
const account = document.getElementById('compte');
const actionStatus = document.getElementById('action-statut');
const unlockForm = document.getElementById('formulaire-deblocage');
const lockForm = document.getElementById('formulaire-blocage');
const confirmBox = document.getElementById('confirmation-blocage');
const moreEvents = document.getElementById('plus-evenements');
let member = null;
let nextCursor = null;
let lockConfirmed = false;


function dl(pairs) {
  return pairs.flatMap(([k, v]) => [el('dt', { class: 'fr-text--bold' }, k), el('dd', { class: 'fr-mb-1w fr-ml-0' }, v ?? '—')]);
}

const accountBadge = (hasAccount) => (hasAccount
  ? el('span', { class: 'fr-badge fr-badge--info fr-badge--no-icon' }, tx('bo.recherche.compte_en_ligne'))
  : el('span', { class: 'fr-badge fr-badge--new fr-badge--no-icon' }, tx('bo.recherche.pas_de_compte_en_ligne')));

const place = (r) => [r.postal_code, r.city].filter(Boolean).join(' ') || null;

/* ---- results ---------------------------------------------------------------- */

function renderResults(body, byNir) {
  const list = body.results || [];
  const msg = document.getElementById('resultats-message');
  const title = document.getElementById('resultats-titre');
  title.textContent = list.length
    ? txn(body.truncated ? 'bo.recherche.premiers_assures_trouves' : 'bo.recherche.assures_trouves', list.length)
    : tx('bo.recherche.aucun_assure_trouve');
  if (!list.length) {
    msg.replaceChildren(el('p', {}, byNir
      ? tx('bo.recherche.aucun_assure_caisse_numero')
      : tx('bo.recherche.aucun_assure_correspond_criteres')));
  } else if (body.truncated) {
    msg.replaceChildren(el('div', { class: 'fr-alert fr-alert--warning fr-alert--sm fr-mb-2w' },
      el('p', {}, tx('bo.recherche.max_assures_correspondent_seuls', { max: body.max, max: body.max }))));
  } else {
    msg.replaceChildren();
  }
  document.getElementById('resultats-liste').replaceChildren(...list.map((r) => el('li', { class: 'fr-py-2w portail-resultat' },
    el('h3', { class: 'fr-h6 fr-mb-1v' }, `${r.first_name} ${r.last_name}`),
    el('p', { class: 'fr-mb-1v' }, accountBadge(r.member_id)),
    el('p', { class: 'fr-text--sm fr-mb-1w' },
      tx(place(r) ? 'bo.recherche.naissance_nir_lieu' : 'bo.recherche.naissance_nir', { date: formatDate(r.birth_date), nir: formatNir(r.nir), lieu: place(r) })),
    el('button', {
      class: 'fr-btn fr-btn--sm fr-btn--secondary', type: 'button', 'data-nir': r.nir,
    }, tx('bo.recherche.ouvrir_dossier'), el('span', { class: 'fr-sr-only' }, ` de ${r.first_name} ${r.last_name}`)))));
  results.hidden = false;
  results.dataset.results = JSON.stringify(list);
}

document.getElementById('resultats-liste').addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-nir]');
  if (!b) return;
  const r = JSON.parse(results.dataset.results || '[]').find((x) => x.nir === b.dataset.nir);
  if (r) open(r).catch((err) => showPageError(status, err));
});

/* ---- the file ----------------------------------------------------------------- */

function renderIdentity(p, hasAccount) {
  const title = document.getElementById('identite-titre');
  title.textContent = `${p.first_name} ${p.last_name}`;
  document.getElementById('badge-compte').replaceChildren(accountBadge(hasAccount));
  document.getElementById('identite').replaceChildren(...dl([
    [tx('bo.recherche.numero_securite_sociale'), formatNir(p.nir)],
    [tx('bo.recherche.date_naissance'), formatDate(p.birth_date)],
    ...(hasAccount ? [[tx('commun.adresse_e_mail'), p.email]] : [[tx('bo.recherche.code_postal_commune'), place(p)]]),
    [tx('bo.recherche.caisse'), p.fund],
  ]));
  // Only those who may follow it see the link to the audit log.
  const link = document.getElementById('lien-journal');
  link.hidden = !(hasAccount && canReadAudit);
  if (hasAccount && canReadAudit) link.querySelector('a').href = `/backoffice/audit.html#compte=${encodeURIComponent(p.id)}`;
}

function render(m) {
  member = m;
  renderIdentity(m, true);
  document.getElementById('sans-compte').hidden = true;
  account.hidden = false;
  const etat = document.getElementById('etat');
  const c = m.counters || {};
  const counters = el('p', { class: 'fr-text--sm' },
    tx('bo.recherche.erreurs_consecutives', { mot_de_passe: c.password_failures ?? 0, code: c.second_factor_failures ?? 0 }));
  if (m.lock) {
    etat.replaceChildren(
      el('p', {}, el('span', { class: 'fr-badge fr-badge--error' }, tx('commun.compte_bloque'))),
      el('dl', {}, ...dl([
        [tx('bo.recherche.raison'), `${lockLabel(m.lock.reason)} — ${m.lock.reason_text || ''}`],
        [tx('bo.recherche.depuis'), formatDateTimeSeconds(m.lock.since)],
        [tx('bo.recherche.par'), actorLabel(m.lock.by, m.lock.by_name)],
        ...(m.lock.detail ? [[tx('bo.recherche.note_interne'), m.lock.detail]] : []),
      ])),
      counters);
  } else {
    etat.replaceChildren(el('p', {}, el('span', { class: 'fr-badge fr-badge--success' }, tx('bo.recherche.compte_actif'))), counters);
  }
  unlockForm.hidden = !m.lock;
  lockForm.hidden = !!m.lock;
  hideConfirm();
  const signIns = m.last_sign_ins || [];
  document.getElementById('connexions').replaceChildren(signIns.length
    ? el('ul', {}, signIns.map((s) => el('li', {}, `${formatDateTimeSeconds(s.at)} — ${describeDevice(s.user_agent)} — ${s.ip || 'adresse inconnue'}${s.country ? ` (${s.country})` : ''}`)))
    : el('p', {}, tx('bo.recherche.aucune_connexion_enregistree')));
  fiche.hidden = false;
}

function renderNoAccount(r) {
  member = null;
  renderIdentity(r, false);
  document.getElementById('sans-compte').hidden = false;
  account.hidden = true;
  fiche.hidden = false;
}

async function loadHistory() {
  const r = await api.get(`/backoffice/members/${encodeURIComponent(member.id)}/history`);
  const items = (r.entries || []).map((h) => {
    const who = h.agent_login || h.agent_name ? actorLabel(`agent:${h.agent_login || ''}`, h.agent_name) : actorLabel(h.detail);
    const what = h.action === 'lock'
      ? `Blocage${h.detail && h.detail !== 'agent' && !h.motive ? ` — ${lockLabel(h.detail)}` : ''}`
      : tx('commun.deblocage');
    return el('li', { class: 'fr-mb-2w' },
      el('p', { class: 'fr-mb-0' }, el('strong', {}, what), ` — ${formatDateTimeSeconds(h.at)}`),
      el('p', { class: 'fr-text--sm fr-mb-0' }, tx('bo.recherche.par_agent', { who })),
      h.motive ? el('p', { class: 'fr-text--sm fr-mb-0' }, `Motif : ${h.motive}`) : null);
  });
  document.getElementById('historique').replaceChildren(...(items.length
    ? items : [el('li', {}, tx('bo.recherche.compte_jamais_ete_bloque'))]));
}

async function loadEvents(reset) {
  const q = new URLSearchParams({ limit: '20' });
  if (!reset && nextCursor) q.set('cursor', nextCursor);
  const r = await api.get(`/backoffice/members/${encodeURIComponent(member.id)}/events?${q}`);
  const rows = cardRows(document.getElementById('evenements-table'), r.events || [], (e) => [
    formatDateTimeSeconds(e.created_at),
    eventLabel(e.kind),
    eventDetail(e.kind, e.detail, e.agent_name),
    e.user_agent ? describeDevice(e.user_agent) : '—',
    e.ip || '—',
    e.country || '—',
  ]);
  const body = document.getElementById('evenements');
  if (reset) body.replaceChildren(...rows);
  else body.append(...rows);
  if (reset && !rows.length) body.replaceChildren(el('tr', {}, el('td', { colspan: '6' }, tx('commun.aucun_evenement'))));
  nextCursor = r.next_cursor || null;
  moreEvents.hidden = !nextCursor;
}

async function show(nir) {
  render(await api.get(`/backoffice/members?nir=${encodeURIComponent(nir)}`));
  await Promise.all([loadHistory(), loadEvents(true)]);
}

/** Opens a search result: the member's file, or the insured person without
 * an account (what the search already gave: nothing more to read). */
async function open(r) {
  actionStatus.replaceChildren();
  if (r.member_id) await show(r.nir);
  else renderNoAccount(r);
  const title = document.getElementById('identite-titre');
  title.setAttribute('tabindex', '-1');
  title.focus();
}

async function search(params, byNir) {
  actionStatus.replaceChildren();
  status.replaceChildren();
  fiche.hidden = true;
  results.hidden = true;
  const body = await api.get(`/backoffice/insured?${new URLSearchParams(params)}`);
  // One person for a NIR: straight to the file.
  if (byNir && body.results?.length === 1) {
    await open(body.results[0]);
    return;
  }
  renderResults(body, byNir);
  document.getElementById('resultats-titre').focus();
}

bindForm(document.getElementById('formulaire'), async (v) => {
  await search({ nir: v.nir.replace(/\s+/g, '').toUpperCase() }, true);
}, { checks: { nir: (s) => nirCheck(s) }, onLocked: null });

bindForm(document.getElementById('formulaire-nom'), async (v) => {
  const params = { last_name: v.last_name.trim(), birth_date: v.birth_date };
  if (v.first_name.trim()) params.first_name = v.first_name.trim();
  if (v.postal_code.trim()) params.postal_code = v.postal_code.trim();
  await search(params, false);
}, {
  checks: {
    postal_code: (s) => (!s.trim() || /^\d{5}$/.test(s.trim()) ? null : tx('bo.recherche.saisissez_code_postal_5')),
  },
  onLocked: null,
});

/* ---- lock and unlock ----------------------------------------------------------- */

const reasonCheck = (s) => {
  const n = [...s.trim()].length;
  return n < 10 || n > 500 ? txn('bo.recherche.motif_longueur', n) : null;
};

function hideConfirm() {
  lockConfirmed = false;
  confirmBox.hidden = true;
}

document.getElementById('confirmer-blocage').addEventListener('click', () => {
  lockConfirmed = true;
  lockForm.requestSubmit();
});
document.getElementById('annuler-blocage').addEventListener('click', () => {
  hideConfirm();
  document.getElementById('bloquer').focus();
});

for (const [form, action, done] of [
  [unlockForm, 'unlock', tx('commun.compte_debloque')],
  [lockForm, 'lock', tx('commun.compte_bloque')],
]) {
  bindForm(form, async (v) => {
    // Blocking asks first: the member is signed out and cannot come back.
    if (action === 'lock' && !lockConfirmed) {
      document.getElementById('confirmation-texte').textContent = tx('bo.recherche.bloquer_confirmation', { first_name: member.first_name, last_name: member.last_name });
      confirmBox.hidden = false;
      confirmBox.focus();
      return;
    }
    hideConfirm();
    await api.post(`/backoffice/members/${encodeURIComponent(member.id)}/${action}`, { reason: v.reason.trim() });
    form.reset();
    await show(member.nir);
    showAlert(actionStatus, 'success', done, tx('bo.recherche.action_enregistree_journal_audit'), { focus: true });
  }, {
    checks: { reason: reasonCheck },
    messages: { 409: { title: tx('commun.action_impossible'), text: tx('bo.recherche.compte_etat_affiche_fiche') } },
    onLocked: null,
  });
}
lockForm.addEventListener('input', hideConfirm);

moreEvents.addEventListener('click', () => loadEvents(false).catch((err) => showAlert(actionStatus, 'error', tx('bo.commun.chargement_impossible'), err.message, { focus: true })));

// From the audit log: /backoffice/recherche.html#nir=… (a fragment: the NIR
// never reaches a server log).
const fromLink = /^#nir=([0-9AB]{15})$/i.exec(window.location.hash);
if (fromLink) {
  search({ nir: fromLink[1].toUpperCase() }, true).catch((err) => {
    if (!(err instanceof ApiError)) console.error(err);
    showPageError(status, err);
  });
}
