// Back office: an agenda's day (GET /api/v1/backoffice/appointments/agendas/
// {id}/day, audited), each booked appointment cancelled with a reason (the
// member is notified), marked done or no-show once started; closures of a
// period (booked appointments inside are cancelled and notified).
import { api } from '/js/api.js';
import { bindForm, el, queryParam, requireAgent, showAlert, showFormError, showPageError, validate } from '/js/ui.js';
import { agendaName, dayLabel, kindLabel, parisToUtc, parisTime, parisWhen, statusBadge, toDate, todayParis } from './common.js';

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
  select.replaceChildren(el('option', { value: '' }, agendas.length ? 'Choisir un agenda' : 'Aucun agenda trouvé'),
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
      el('label', { class: 'fr-label', for: id }, 'Motif de l’annulation', el('span', { class: 'fr-hint-text' }, 'Envoyé à l’assuré. De 3 à 200 caractères.')),
      el('input', { class: 'fr-input', type: 'text', id, name: 'reason', maxlength: '200', required: true, 'data-required-message': 'Indiquez le motif de l’annulation.' })),
    el('ul', { class: 'fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm' },
      el('li', {}, el('button', { class: 'fr-btn', type: 'submit' }, 'Confirmer l’annulation')),
      el('li', {}, el('button', { class: 'fr-btn fr-btn--secondary', type: 'button', 'data-action': 'garder' }, 'Ne pas annuler'))));
  bindForm(form, async (values) => {
    await api.post(`/backoffice/appointments/${item.id}/cancel`, { reason: values.reason.trim() });
    await showDay();
    showAlert(status, 'success', 'Rendez-vous annulé', `Le rendez-vous de ${parisTime(item.start)} est annulé\u00a0; l’assuré est prévenu.`, { focus: true });
  }, { checks: { reason: (v) => ([...v.trim()].length < 3 ? 'Le motif comporte au moins 3 caractères.' : null) } });
  return form;
}

async function mark(item, what, label) {
  try {
    await api.post(`/backoffice/appointments/${item.id}/${what}`);
    await showDay();
    showAlert(status, 'success', label, `Le rendez-vous de ${parisTime(item.start)} est noté «\u00a0${label.toLowerCase()}\u00a0».`, { focus: true });
  } catch (err) {
    showPageError(status, err);
  }
}

function row(item) {
  const who = beneficiaryName(item.beneficiary);
  const member = item.member ? `${item.member.name} (compte n° ${item.member.id})` : 'Assuré';
  const li = el('li', { class: 'rdv-carte', 'data-id': String(item.id) },
    el('h3', {}, `${parisTime(item.start)} – ${parisTime(item.end)}`),
    statusBadge(item.status),
    el('p', { class: 'fr-mt-1w fr-mb-1w' }, member, who && who !== item.member?.name ? `, pour ${who}` : ''),
    el('p', { class: 'fr-mb-1w' }, kindLabel(item.kind, current.agenda)),
    item.cancel_reason ? el('p', { class: 'fr-mb-1w' }, `Motif de l’annulation\u00a0: ${item.cancel_reason}`) : null);
  if (item.status === 'booked') {
    const started = toDate(item.start).getTime() <= Date.now();
    const actions = el('ul', { class: 'fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm' });
    const cancel = el('button', { class: 'fr-btn fr-btn--secondary', type: 'button', 'data-action': 'annuler' }, 'Annuler',
      el('span', { class: 'fr-sr-only' }, ` le rendez-vous de ${parisTime(item.start)}`));
    actions.append(el('li', {}, cancel));
    if (started) {
      const doneB = el('button', { class: 'fr-btn fr-btn--tertiary', type: 'button', 'data-action': 'honore' }, 'Honoré',
        el('span', { class: 'fr-sr-only' }, ` — rendez-vous de ${parisTime(item.start)}`));
      const noShow = el('button', { class: 'fr-btn fr-btn--tertiary', type: 'button', 'data-action': 'absent' }, 'Non honoré',
        el('span', { class: 'fr-sr-only' }, ` — rendez-vous de ${parisTime(item.start)}`));
      doneB.addEventListener('click', () => mark(item, 'done', 'Honoré'));
      noShow.addEventListener('click', () => mark(item, 'no_show', 'Non honoré'));
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
  list.replaceChildren(...(items.length ? items.map(row) : [el('li', {}, 'Aucun rendez-vous ce jour-là.')]));
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
  showAlert(status, 'success', 'Fermeture enregistrée',
    `${agendaName(current.agenda)} est fermé du ${parisWhen(body.from)} au ${parisWhen(body.to)}. ${n ? `${n} rendez-vous annulé${n > 1 ? 's' : ''}, les assurés sont prévenus.` : 'Aucun rendez-vous n’était pris.'}`,
    { focus: true });
}, {
  checks: {
    to: (v, f) => (v && f.elements.from.value && v <= f.elements.from.value ? 'La fin doit suivre le début.' : null),
    reason: (v) => ([...v.trim()].length < 3 ? 'Le motif comporte au moins 3 caractères.' : null),
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
