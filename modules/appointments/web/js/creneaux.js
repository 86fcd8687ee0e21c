// The week of free slots of one agenda (GET …/agendas/{id}/slots, seven
// Paris days at a time), a list of buttons per day; the booking form (who,
// reason with its counter, the change deadline stated before confirming);
// "me prévenir d'un créneau plus tôt" (the waitlist). With ?deplacer=ID the
// same week moves an appointment (POST …/{id}/move) instead of booking.
import { api } from '/js/api.js';
import { bindForm, el, queryParam, requireMember, setTitle, showAlert, showFormError, showPageError } from '/js/ui.js';
import {
  addDays, agendaAddress, agendaName, dayLabel, hours, kindLabel, parisDay, parisTime, parisWhen, toDate, todayParis,
} from './common.js';
import { tx } from '/js/textes.js';

const status = document.getElementById('statut');
const week = document.getElementById('semaine');
const weekTitle = document.getElementById('titre-semaine');
const prev = document.getElementById('precedente');
const next = document.getElementById('suivante');
const kindSelect = document.getElementById('kind');
const booking = document.getElementById('reservation');
const form = document.getElementById('formulaire');
const reason = document.getElementById('reason');
const counter = document.getElementById('compteur');
const waitForm = document.getElementById('attente');
await requireMember();

const agendaId = queryParam('agenda');
const moving = queryParam('deplacer');
let agenda = null;
let appointment = null;
let from = todayParis();
let chosen = null; // {start, end}
const DAYS = 7;

function lastDay() {
  return addDays(todayParis(), Math.max(0, Number(agenda?.horizon_days ?? 60)));
}

function cutoffHours() {
  return Number(agenda?.change_cutoff_hours ?? 24);
}

/** What the member may still do, stated before they confirm. */
function deadlineText(start) {
  const until = new Date(toDate(start).getTime() - cutoffHours() * 3600e3);
  if (until.getTime() <= Date.now()) {
    return tx('appointments.creneaux.commence_dans_moins_de', { delai: hours(cutoffHours()) });
  }
  return tx('appointments.creneaux.delai_modification', {
    date: parisWhen(until.toISOString()),
    delai: hours(cutoffHours()),
    lieu: tx(agenda.kind === 'office' ? 'appointments.common.l_accueil' : 'appointments.common.le_cabinet'),
  });
}

function slotButton(s) {
  const b = el('button', {
    class: 'fr-btn fr-btn--secondary fr-btn--sm', type: 'button', 'data-start': s.start, 'data-end': s.end,
    'aria-pressed': chosen && chosen.start === s.start ? 'true' : 'false',
    'aria-label': tx('appointments.common.jour_a_heure', { jour: dayLabel(parisDay(s.start)), heure: parisTime(s.start) }),
  }, parisTime(s.start));
  return el('li', {}, b);
}

async function loadWeek({ focus = false } = {}) {
  const to = addDays(from, DAYS - 1);
  weekTitle.textContent = tx('appointments.creneaux.creneaux_libres_from_to', { from: dayLabel(from), to: dayLabel(to) });
  prev.disabled = from <= todayParis();
  next.disabled = addDays(from, DAYS) > lastDay();
  week.setAttribute('aria-busy', 'true');
  const q = new URLSearchParams({ from, to, kind: kindSelect.value });
  try {
    const { slots } = await api.get(`/appointments/agendas/${encodeURIComponent(agendaId)}/slots?${q}`);
    const byDay = new Map();
    for (const s of slots) {
      const d = parisDay(s.start);
      if (!byDay.has(d)) byDay.set(d, []);
      byDay.get(d).push(s);
    }
    const days = [];
    for (let i = 0; i < DAYS; i++) {
      const d = addDays(from, i);
      const list = byDay.get(d) || [];
      const id = `jour-${d}`;
      days.push(el('li', { class: 'rdv-jour', 'data-day': d },
        el('h3', { id }, dayLabel(d)),
        list.length
          ? el('ul', { class: 'rdv-creneaux', 'aria-labelledby': id }, list.map(slotButton))
          : el('p', { class: 'fr-text--sm fr-mb-0' }, tx('appointments.creneaux.aucun_creneau_libre'))));
    }
    week.replaceChildren(...days);
    if (!slots.length) {
      week.append(el('li', { class: 'rdv-jour' }, el('p', { class: 'fr-mb-0' },
        tx('appointments.creneaux.aucun_creneau_libre_semaine'))));
    }
  } finally {
    week.setAttribute('aria-busy', 'false');
  }
  if (focus) weekTitle.focus();
}

function choose(start, end) {
  chosen = { start, end };
  for (const b of week.querySelectorAll('button[data-start]')) b.setAttribute('aria-pressed', b.dataset.start === start ? 'true' : 'false');
  const k = kindLabel(kindSelect.value, agenda);
  document.getElementById('resume').textContent = `${parisWhen(start)} — ${agendaName(agenda)}, ${agendaAddress(agenda)}. ${k}.`;
  document.getElementById('delai').textContent = moving
    ? tx('appointments.creneaux.resume_deplacement', { start: deadlineText(start), start2: parisWhen(appointment.start) })
    : deadlineText(start);
  booking.hidden = false;
  document.getElementById('titre-reservation').focus();
}

week.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-start]');
  if (b) choose(b.dataset.start, b.dataset.end);
});

document.getElementById('changer').addEventListener('click', () => {
  const start = chosen && chosen.start;
  booking.hidden = true;
  const b = start && week.querySelector(`button[data-start="${CSS.escape(start)}"]`);
  (b || weekTitle).focus();
});

async function changeWeek(days) {
  from = addDays(from, days);
  if (from < todayParis()) from = todayParis();
  try {
    await loadWeek({ focus: true });
  } catch (err) {
    showPageError(status, err);
  }
}
prev.addEventListener('click', () => changeWeek(-DAYS));
next.addEventListener('click', () => changeWeek(DAYS));
kindSelect.addEventListener('change', async () => {
  booking.hidden = true;
  chosen = null;
  try {
    await loadWeek();
  } catch (err) {
    showPageError(status, err);
  }
});

function updateCounter() {
  const n = [...reason.value].length;
  counter.textContent = tx('appointments.creneaux.caracteres_sur_500', { n });
}
reason.addEventListener('input', updateCounter);

function icsLink(a) {
  return el('a', { class: 'fr-link fr-link--download', href: `/api/v1/appointments/${a.id}.ics`, download: `rendez-vous-${a.id}.ics` },
    tx('commun.ajouter_agenda'), el('span', { class: 'fr-link__detail' }, tx('commun.fichier_ics')));
}

function done(title, a) {
  booking.hidden = true;
  chosen = null;
  form.reset();
  updateCounter();
  showAlert(status, 'success', title, `${parisWhen(a.start)} — ${agendaName(a.agenda || agenda)}.`, {
    focus: true,
    extra: el('ul', {}, el('li', {}, el('a', { href: '/appointments/' }, tx('appointments.creneaux.voir_rendez'))), el('li', {}, icsLink(a))),
  });
}

const messages = { 409: { title: tx('appointments.creneaux.creneau_disponible') } };

bindForm(form, async (values) => {
  if (!chosen) return;
  try {
    if (moving) {
      const a = await api.post(`/appointments/${encodeURIComponent(moving)}/move`, { start: chosen.start });
      appointment = a;
      done(tx('appointments.creneaux.rendez_deplace'), a);
    } else {
      const body = { agenda: Number(agendaId), start: chosen.start, kind: kindSelect.value, reason: values.reason.trim() };
      // The member (null), or one of their beneficiaries by id (the core's
      // list, GET /api/v1/appointments/beneficiaries).
      body.beneficiary = /^\d{1,18}$/.test(values.beneficiary) ? Number(values.beneficiary) : null;
      const a = await api.post('/appointments', body);
      done(tx('commun.rendez_confirme'), a);
    }
  } finally {
    // Booked, or taken meanwhile (409, said by bindForm): the week as it is now.
    await loadWeek().catch(() => {});
  }
}, { messages });

bindForm(waitForm, async (values) => {
  await api.post('/appointments/waitlist', { agenda: Number(agendaId), kind: kindSelect.value, before: values.before });
  waitForm.reset();
  showAlert(status, 'success', tx('appointments.creneaux.demande_enregistree'),
    tx('appointments.creneaux.nous_previendrons_si_creneau', { before: dayLabel(values.before) }), { focus: true });
}, {
  checks: { before: (v) => (v && v <= todayParis() ? tx('appointments.creneaux.choisissez_date_apres_aujourd') : null) },
});

const who = document.getElementById('beneficiary');

// The member first, then their beneficiaries; without the list (an error),
// the member alone.
async function beneficiaries() {
  let list = [];
  try {
    const r = await api.get('/appointments/beneficiaries');
    list = Array.isArray(r) ? r : (r.items || []);
  } catch {
    list = [];
  }
  const me = list.find((b) => b.id === null || b.id === undefined);
  const others = list.filter((b) => Number.isInteger(b.id));
  who.replaceChildren(el('option', { value: '' }, me && me.name ? tx('appointments.creneaux.moi_meme_name', { name: me.name }) : tx('appointments.creneaux.moi_meme')),
    ...others.map((b) => el('option', { value: String(b.id) }, b.label || b.name)));
}

async function start() {
  if (!agendaId || !/^\d{1,18}$/.test(agendaId)) {
    showAlert(status, 'error', tx('appointments.creneaux.agenda_introuvable'), tx('appointments.creneaux.choisissez_praticien_accueil_recherche'), { focus: true });
    return;
  }
  if (moving) {
    appointment = await api.get(`/appointments/${encodeURIComponent(moving)}`);
  }
  agenda = await api.get(`/appointments/agendas/${encodeURIComponent(agendaId)}`);
  document.getElementById('titre').textContent = moving ? tx('appointments.creneaux.deplacer_mon_rendez_vous_agenda', { agenda: agendaName(agenda) }) : tx('appointments.creneaux.prendre_rendez_vous_agenda', { agenda: agendaName(agenda) });
  setTitle(moving ? tx('appointments.creneaux.deplacer_mon_rendez_vous') : tx('appointments.creneaux.prendre_rendez'), agendaName(agenda));
  document.getElementById('agenda-nom').textContent = [agendaName(agenda), agenda.kind === 'office' ? tx('appointments.creneaux.accueil_caisse') : agenda.specialty].filter(Boolean).join(' — ');
  document.getElementById('agenda-adresse').textContent = agendaAddress(agenda);
  document.getElementById('agenda-delai').textContent = tx('appointments.creneaux.delai_deplacer_annuler', { delai: hours(cutoffHours()) });
  const kinds = agenda.visit_kinds && agenda.visit_kinds.length ? agenda.visit_kinds : [{ code: 'first', label: tx('appointments.creneaux.consultation'), minutes: 30 }];
  kindSelect.replaceChildren(...kinds.map((k) => el('option', { value: k.code }, `${k.label} (${k.minutes} min)`)));
  const wanted = queryParam('kind') || (appointment && appointment.kind);
  if (wanted && kinds.some((k) => k.code === wanted)) kindSelect.value = wanted;
  if (moving) {
    kindSelect.disabled = true;
    document.getElementById('deplacement').hidden = false;
    document.getElementById('deplacement-texte').textContent = tx('appointments.creneaux.rendez_start_garde_tant', { start: parisWhen(appointment.start) });
    document.getElementById('groupe-beneficiaire').hidden = true;
    document.getElementById('groupe-motif').hidden = true;
    document.getElementById('beneficiary').disabled = true;
    reason.disabled = true;
    document.getElementById('titre-reservation').textContent = tx('appointments.creneaux.confirmer_nouveau_creneau');
    document.getElementById('confirmer').textContent = tx('appointments.creneaux.deplacer_le_rendez_vous');
    document.getElementById('liste-attente').hidden = true;
  } else {
    await beneficiaries();
  }
  await loadWeek();
}

try {
  await start();
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err, { 404: { title: tx('appointments.creneaux.agenda_rendez_introuvable') } });
}
