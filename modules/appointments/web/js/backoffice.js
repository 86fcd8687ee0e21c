// Back office: an agenda's day (GET /api/v1/backoffice/appointments/agendas/
// {id}/day, audited), each booked appointment cancelled with a reason (the
// member is notified), marked done or no-show once started; closures of a
// period (booked appointments inside are cancelled and notified).
import { api } from '/js/api.js';
import { bindForm, el, queryParam, requireAgent, showAlert, showFormError, showPageError, validate } from '/js/ui.js';
import { agendaName, dayLabel, kindLabel, parisToUtc, parisTime, parisWhen, statusBadge, toDate, todayParis } from './common.js';
import { tx, txn } from '/js/textes.js';

await requireAgent();
const status = document.getElementById('statut');
const search = document.getElementById('recherche');
const dayForm = document.getElementById('journee');
const select = document.getElementById('agenda');
const list = document.getElementById('rendez-vous');
const closure = document.getElementById('fermeture');
let agendas = [];
let current = null; // {agenda, date}

async function findAgendas(q) {
  const r = await api.get(`/backoffice/appointments/agendas?${new URLSearchParams({ q: q || '', limit: '100' })}`);
  agendas = Array.isArray(r) ? r : (r.items || []);
  const keep = select.value;
  select.replaceChildren(el('option', { value: '' }, agendas.length ? tx('appointments.backoffice.choisir_agenda') : tx('appointments.backoffice.aucun_agenda_trouve')),
    ...agendas.map((a) => el('option', { value: String(a.id) }, [agendaName(a), a.city].filter(Boolean).join(' — '))));
  if (keep && agendas.some((a) => String(a.id) === keep)) select.value = keep;
}

function beneficiaryName(b) {
  if (!b) return null;
  return typeof b === 'object' ? b.name : String(b);
}

function reasonForm(item) {
  const id = `motif-${item.id}`;
  const form = el('form', { class: 'fr-mt-2w', novalidate: true, 'data-cancel': String(item.id) },
    el('div', { class: 'fr-input-group' },
      el('label', { class: 'fr-label', for: id }, tx('appointments.backoffice.motif_annulation'), el('span', { class: 'fr-hint-text' }, tx('appointments.backoffice.envoye_assure_3_200'))),
      el('input', { class: 'fr-input', type: 'text', id, name: 'reason', maxlength: '200', required: true, 'data-required-message': tx('appointments.backoffice.indiquez_motif_annulation') })),
    el('ul', { class: 'fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm' },
      el('li', {}, el('button', { class: 'fr-btn', type: 'submit' }, tx('appointments.backoffice.confirmer_annulation'))),
      el('li', {}, el('button', { class: 'fr-btn fr-btn--secondary', type: 'button', 'data-action': 'garder' }, tx('appointments.backoffice.ne_pas_annuler')))));
  bindForm(form, async (values) => {
    await api.post(`/backoffice/appointments/${item.id}/cancel`, { reason: values.reason.trim() });
    await showDay();
    showAlert(status, 'success', tx('commun.rendez_annule'), tx('appointments.backoffice.rendez_start_annule_assure', { start: parisTime(item.start) }), { focus: true });
  }, { checks: { reason: (v) => ([...v.trim()].length < 3 ? tx('appointments.backoffice.motif_comporte_moins_3') : null) } });
  return form;
}

async function mark(item, what, label) {
  try {
    await api.post(`/backoffice/appointments/${item.id}/${what}`);
    await showDay();
    showAlert(status, 'success', label, tx('appointments.backoffice.rendez_vous_note', { heure: parisTime(item.start), statut: label.toLowerCase() }), { focus: true });
  } catch (err) {
    showPageError(status, err);
  }
}

function row(item) {
  const who = beneficiaryName(item.beneficiary);
  const member = item.member ? `${item.member.name} (compte n° ${item.member.id})` : tx('appointments.backoffice.assure');
  const li = el('li', { class: 'rdv-carte', 'data-id': String(item.id) },
    el('h3', {}, `${parisTime(item.start)} – ${parisTime(item.end)}`),
    statusBadge(item.status),
    el('p', { class: 'fr-mt-1w fr-mb-1w' }, member, who && who !== item.member?.name ? `, pour ${who}` : ''),
    el('p', { class: 'fr-mb-1w' }, kindLabel(item.kind, current.agenda)),
    item.cancel_reason ? el('p', { class: 'fr-mb-1w' }, tx('commun.motif_annulation_cancel_reason', { cancel_reason: item.cancel_reason })) : null);
  if (item.status === 'booked') {
    const started = toDate(item.start).getTime() <= Date.now();
    const actions = el('ul', { class: 'fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm' });
    const cancel = el('button', { class: 'fr-btn fr-btn--secondary', type: 'button', 'data-action': 'annuler' }, tx('commun.annuler'),
      el('span', { class: 'fr-sr-only' }, tx('appointments.backoffice.le_rendez_vous_de', { start: parisTime(item.start) })));
    actions.append(el('li', {}, cancel));
    if (started) {
      const doneB = el('button', { class: 'fr-btn fr-btn--tertiary', type: 'button', 'data-action': 'honore' }, tx('commun.honore'),
        el('span', { class: 'fr-sr-only' }, tx('appointments.backoffice.tiret_rendez_vous_de', { heure: parisTime(item.start) })));
      const noShow = el('button', { class: 'fr-btn fr-btn--tertiary', type: 'button', 'data-action': 'absent' }, tx('appointments.backoffice.non_honore'),
        el('span', { class: 'fr-sr-only' }, tx('appointments.backoffice.tiret_rendez_vous_de', { heure: parisTime(item.start) })));
      doneB.addEventListener('click', () => mark(item, 'done', tx('commun.honore')));
      noShow.addEventListener('click', () => mark(item, 'no_show', tx('appointments.backoffice.non_honore')));
      actions.append(el('li', {}, doneB), el('li', {}, noShow));
    }
    cancel.addEventListener('click', () => {
      let form = li.querySelector('form[data-cancel]');
      if (!form) {
        form = reasonForm(item);
        form.querySelector('[data-action="garder"]').addEventListener('click', () => {
          form.remove();
          cancel.focus();
        });
        li.append(form);
      }
      form.elements.reason.focus();
    });
    li.append(actions);
  }
  return li;
}

async function showDay({ focus = false } = {}) {
  const { agenda, date } = current;
  const d = await api.get(`/backoffice/appointments/agendas/${encodeURIComponent(agenda.id)}/day?date=${encodeURIComponent(date)}`);
  if (d.agenda && typeof d.agenda === 'object') current.agenda = { ...agenda, ...d.agenda };
  const title = document.getElementById('titre-jour');
  title.textContent = `${agendaName(current.agenda)} — ${dayLabel(date)}`;
  const items = d.items || [];
  list.replaceChildren(...(items.length ? items.map(row) : [el('li', {}, tx('appointments.backoffice.aucun_rendez_jour'))]));
  document.getElementById('jour').hidden = false;
  document.getElementById('section-fermeture').hidden = false;
  if (focus) title.focus();
}

search.addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await findAgendas(search.elements.q.value.trim());
    select.focus();
  } catch (err) {
    showPageError(status, err);
  }
});

dayForm.setAttribute('novalidate', '');
dayForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!validate(dayForm)) return;
  const agenda = agendas.find((a) => String(a.id) === select.value) || { id: Number(select.value) };
  current = { agenda, date: dayForm.elements.date.value };
  try {
    status.replaceChildren();
    await showDay({ focus: true });
  } catch (err) {
    showFormError(dayForm, err);
  }
});

bindForm(closure, async (values) => {
  if (!current) return;
  const body = { from: parisToUtc(values.from), to: parisToUtc(values.to), reason: values.reason.trim() };
  const r = await api.post(`/backoffice/appointments/agendas/${encodeURIComponent(current.agenda.id)}/closures`, body);
  closure.reset();
  await showDay();
  const n = Number(r && r.cancelled) || 0;
  showAlert(status, 'success', tx('appointments.backoffice.fermeture_enregistree'),
    `${tx('appointments.backoffice.agenda_ferme', { agenda: agendaName(current.agenda), from: parisWhen(body.from), to: parisWhen(body.to) })} ${n ? txn('appointments.backoffice.rendez_vous_annules', n) : tx('appointments.backoffice.aucun_rendez_vous_pris')}`,
    { focus: true });
}, {
  checks: {
    to: (v, f) => (v && f.elements.from.value && v <= f.elements.from.value ? tx('appointments.backoffice.fin_doit_suivre_debut') : null),
    reason: (v) => ([...v.trim()].length < 3 ? tx('appointments.backoffice.motif_comporte_moins_3') : null),
  },
});

dayForm.elements.date.value = queryParam('date') || todayParis();
try {
  await findAgendas('');
  const given = queryParam('agenda');
  if (given && agendas.some((a) => String(a.id) === given)) {
    select.value = given;
    dayForm.requestSubmit();
  }
} catch (err) {
  showPageError(status, err);
}
