// Shared by the appointments pages: labels, Paris dates and times (the API
// speaks UTC; agendas and people think in Paris wall-clock time).
import { el } from '/js/ui.js';
import { tx } from '/js/textes.js';

export const KIND = { first: tx('appointments.common.premiere_consultation'), followup: tx('appointments.common.consultation_suivi'), adviser: tx('appointments.common.rendez_conseiller') };

export const STATUS = {
  booked: tx('appointments.common.confirme'),
  held: tx('appointments.common.reserve'),
  cancelled_by_member: tx('appointments.common.annule'),
  cancelled_by_office: tx('appointments.common.annule_cabinet_caisse'),
  done: tx('commun.honore'),
  no_show: tx('appointments.common.absence'),
};

export const STATUS_BADGE = {
  booked: 'fr-badge--success', held: 'fr-badge--info', cancelled_by_member: 'fr-badge--warning',
  cancelled_by_office: 'fr-badge--error', done: 'fr-badge--info', no_show: 'fr-badge--warning',
};

const TZ = 'Europe/Paris';
// "1er décembre", as French writes the first of the month.
const FIRST = /(?<a>^|\s)1\s/;
const ymdFmt = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });
const timeFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, hour: '2-digit', minute: '2-digit' });
const longDayFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long' });
const fullFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const partsFmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: TZ, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

export function toDate(iso) {
  if (iso instanceof Date) return iso;
  const s = String(iso || '');
  return new Date(/Z|[+-]\d\d:?\d\d$/.test(s) ? s : `${s.replace(' ', 'T')}Z`);
}

/** The Paris calendar day (YYYY-MM-DD) of a UTC time. */
export function parisDay(iso) {
  return ymdFmt.format(toDate(iso));
}

/** "08:30", Paris time. */
export function parisTime(iso) {
  const [h, m] = timeFmt.format(toDate(iso)).split(':');
  return `${Number(h)} h ${m}`;
}

/** "mercredi 3 décembre 2026 à 8 h 30", Paris time. */
export function parisWhen(iso) {
  return tx('appointments.common.jour_a_heure', { jour: fullFmt.format(toDate(iso)).replace(FIRST, '$<a>1er '), heure: parisTime(iso) });
}

/** "mercredi 3 décembre" for a YYYY-MM-DD. */
export function dayLabel(ymd) {
  return longDayFmt.format(new Date(`${ymd}T12:00:00Z`)).replace(FIRST, '$<a>1er ');
}

export function todayParis() {
  return parisDay(new Date());
}

export function addDays(ymd, n) {
  const d = new Date(`${ymd}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// Paris's offset from UTC (ms) at an instant.
function parisOffset(ms) {
  const p = Object.fromEntries(partsFmt.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - (ms - (ms % 1000));
}

/** A Paris wall-clock "YYYY-MM-DDTHH:MM" as an ISO UTC time
 * ("2026-12-24T17:00:00Z"). */
export function parisToUtc(local) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || '');
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let t = wall - parisOffset(wall);
  t = wall - parisOffset(t);
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The agenda's name as a person reads it. */
export function agendaName(a) {
  if (!a) return tx('appointments.common.agenda');
  if (typeof a !== 'object') return `Agenda n° ${a}`;
  return a.name || `Agenda n° ${a.id}`;
}

export function agendaAddress(a) {
  if (!a || typeof a !== 'object') return '';
  return [a.address_line, [a.postal_code, a.city].filter(Boolean).join(' ')].filter(Boolean).join(', ');
}

export function kindLabel(code, agenda) {
  const k = agenda && Array.isArray(agenda.visit_kinds) ? agenda.visit_kinds.find((x) => x.code === code) : null;
  return (k && k.label) || KIND[code] || code || '';
}

export function statusBadge(status) {
  return el('p', { class: `fr-badge fr-badge--sm ${STATUS_BADGE[status] || ''}` }, STATUS[status] || status);
}

/** "24 heures" */
export function hours(n) {
  const v = Number(n) || 0;
  return `${v} heure${v > 1 ? 's' : ''}`;
}
