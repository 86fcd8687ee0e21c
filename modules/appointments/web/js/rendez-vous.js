// "Mes rendez-vous": upcoming and past appointments (GET
// /api/v1/appointments?when=), each with its calendar file; an upcoming one
// is moved (creneaux.html?deplacer=) or cancelled after a confirmation,
// until the change deadline; the waitlist with the offers to take.
import { api } from '/js/api.js';
import { el, formatDate, messageFor, requireMember, showAlert, showPageError } from '/js/ui.js';
import { agendaAddress, agendaName, kindLabel, parisTime, parisWhen, statusBadge } from './common.js';
import { tx } from '/js/textes.js';

const status = document.getElementById('statut');
const lists = {
  upcoming: { ul: document.getElementById('a-venir'), more: document.getElementById('plus-a-venir'), cursor: null, empty: tx('appointments.rendez_vous.aucun_rendez_venir') },
  past: { ul: document.getElementById('passes'), more: document.getElementById('plus-passes'), cursor: null, empty: tx('appointments.rendez_vous.aucun_rendez_passe') },
};
const waitlist = document.getElementById('attente');
await requireMember();

function beneficiaryName(b) {
  if (!b) return null;
  if (typeof b === 'object') return b.name || null;
  return String(b);
}

function agendaId(a) {
  return a && typeof a === 'object' ? a.id : a;
}

function icsLink(a) {
  return el('a', { class: 'fr-link fr-link--download', href: `/api/v1/appointments/${a.id}.ics`, download: `rendez-vous-${a.id}.ics` },
    tx('commun.ajouter_agenda'), el('span', { class: 'fr-sr-only' }, tx('appointments.rendez_vous.tiret_rendez_vous_du', { date: parisWhen(a.start) })),
    el('span', { class: 'fr-link__detail' }, tx('commun.fichier_ics')));
}

function confirmCancel(li, a) {
  const box = li.querySelector('.rdv-confirmation');
  if (box) {
    box.querySelector('p').focus();
    return;
  }
  const text = el('p', { tabindex: '-1', class: 'fr-text--bold' },
    tx('appointments.rendez_vous.annuler_rendez_start_creneau', { start: parisWhen(a.start) }));
  const yes = el('button', { class: 'fr-btn fr-btn--sm', type: 'button', 'data-action': 'confirmer-annulation' }, tx('appointments.rendez_vous.oui_annuler_rendez'));
  const no = el('button', { class: 'fr-btn fr-btn--sm fr-btn--secondary', type: 'button' }, tx('appointments.rendez_vous.non_garder'));
  const panel = el('div', { class: 'rdv-confirmation fr-alert fr-alert--warning fr-alert--sm fr-mb-2w' }, text,
    el('ul', { class: 'fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm' }, el('li', {}, yes), el('li', {}, no)));
  li.append(panel);
  text.focus();
  no.addEventListener('click', () => {
    panel.remove();
    li.querySelector('button[data-action="annuler"]')?.focus();
  });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try {
      await api.post(`/appointments/${a.id}/cancel`);
      await reload();
      showAlert(status, 'success', tx('commun.rendez_annule'), tx('appointments.rendez_vous.rendez_start_annule', { start: parisWhen(a.start) }), { focus: true });
    } catch (err) {
      yes.disabled = false;
      showPageError(status, err, { 409: { title: tx('appointments.rendez_vous.annulation_impossible') } });
    }
  });
}

function card(a, when) {
  const who = beneficiaryName(a.beneficiary);
  const li = el('li', { class: 'rdv-carte', 'data-id': String(a.id) },
    el('h3', {}, parisWhen(a.start)),
    statusBadge(a.status),
    el('p', { class: 'fr-mt-1w fr-mb-1w' }, el('strong', {}, agendaName(a.agenda)), agendaAddress(a.agenda) ? ` — ${agendaAddress(a.agenda)}` : ''),
    el('p', { class: 'fr-mb-1w' }, [kindLabel(a.kind, a.agenda), who ? `pour ${who}` : null].filter(Boolean).join(', ')),
    a.status === 'cancelled_by_office' && a.cancel_reason ? el('p', { class: 'fr-mb-1w' }, tx('commun.motif_annulation_cancel_reason', { cancel_reason: a.cancel_reason })) : null);
  if (when === 'upcoming' && a.status === 'booked') {
    const actions = el('ul', { class: 'fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm fr-btns-group--icon-left' });
    if (a.can_change) {
      li.append(el('p', { class: 'fr-text--sm fr-mb-1w' }, tx('appointments.rendez_vous.pouvez_deplacer_annuler_ligne', { change_until: parisWhen(a.change_until) })));
      const q = new URLSearchParams({ agenda: String(agendaId(a.agenda)), deplacer: String(a.id), kind: a.kind });
      actions.append(
        el('li', {}, el('a', { class: 'fr-btn fr-btn--secondary fr-icon-calendar-line', href: `/appointments/creneaux.html?${q}` },
          tx('appointments.rendez_vous.deplacer'), el('span', { class: 'fr-sr-only' }, tx('appointments.rendez_vous.le_rendez_vous_du', { start: parisWhen(a.start) })))),
        el('li', {}, el('button', { class: 'fr-btn fr-btn--tertiary fr-icon-close-circle-line', type: 'button', 'data-action': 'annuler' },
          tx('commun.annuler'), el('span', { class: 'fr-sr-only' }, tx('appointments.rendez_vous.le_rendez_vous_du', { start: parisWhen(a.start) })))));
    } else {
      li.append(el('p', { class: 'fr-text--sm fr-mb-1w' },
        tx(a.change_until ? 'appointments.rendez_vous.delai_passe_le' : 'appointments.rendez_vous.delai_passe', {
          date: a.change_until ? parisWhen(a.change_until) : '',
          lieu: tx(a.agenda && a.agenda.kind === 'office' ? 'appointments.common.l_accueil' : 'appointments.common.le_cabinet'),
        })));
    }
    if (actions.children.length) li.append(actions);
    li.append(el('p', {}, icsLink(a)));
    actions.querySelector('button[data-action="annuler"]')?.addEventListener('click', () => confirmCancel(li, a));
  } else if (a.status !== 'held') {
    li.append(el('p', {}, icsLink(a)));
  }
  return li;
}

async function load(when, append) {
  const l = lists[when];
  if (!append) l.cursor = null;
  const q = new URLSearchParams({ when, limit: '20' });
  if (l.cursor) q.set('cursor', l.cursor);
  const { items, next_cursor: next } = await api.get(`/appointments?${q}`);
  const cards = items.map((a) => card(a, when));
  if (append) l.ul.append(...cards);
  else l.ul.replaceChildren(...(cards.length ? cards : [el('li', {}, l.empty)]));
  l.cursor = next || null;
  l.more.hidden = !l.cursor;
}

function waitItem(w) {
  const li = el('li', { class: 'rdv-carte', 'data-waitlist': String(w.id) },
    el('h3', {}, agendaName(w.agenda)),
    el('p', { class: 'fr-mb-1w' }, tx('appointments.rendez_vous.attente_resume', { kind: kindLabel(w.kind, w.agenda), before: formatDate(w.before) })),
    w.created_at ? el('p', { class: 'fr-text--sm fr-mb-1w' }, tx('appointments.rendez_vous.demande_created_at', { created_at: parisWhen(w.created_at) })) : null);
  const actions = el('ul', { class: 'fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm' });
  if (w.offer) {
    li.append(el('div', { class: 'fr-alert fr-alert--info fr-alert--sm fr-mb-2w' },
      el('p', {}, tx('appointments.rendez_vous.creneau_libere_start_reserve', { start: parisWhen(w.offer.start), until: parisTime(w.offer.until) }))));
    const take = el('button', { class: 'fr-btn', type: 'button' }, tx('appointments.rendez_vous.prendre_creneau'),
      el('span', { class: 'fr-sr-only' }, ` du ${parisWhen(w.offer.start)}`));
    take.addEventListener('click', async () => {
      take.disabled = true;
      try {
        const a = await api.post(`/appointments/waitlist/${w.id}/accept`);
        await reload();
        showAlert(status, 'success', tx('commun.rendez_confirme'), tx('appointments.rendez_vous.rendez_start_confirme', { start: parisWhen(a.start) }), { focus: true });
      } catch (err) {
        take.disabled = false;
        showPageError(status, err, { 409: { title: tx('appointments.rendez_vous.creneau_reserve') } });
        reloadWaitlist().catch(() => {});
      }
    });
    actions.append(el('li', {}, take));
  }
  const drop = el('button', { class: 'fr-btn fr-btn--tertiary', type: 'button' }, tx('appointments.rendez_vous.retirer_demande'),
    el('span', { class: 'fr-sr-only' }, ` — ${agendaName(w.agenda)}`));
  drop.addEventListener('click', async () => {
    drop.disabled = true;
    try {
      await api.del(`/appointments/waitlist/${w.id}`);
      await reloadWaitlist();
      showAlert(status, 'success', tx('appointments.rendez_vous.demande_retiree'), tx('appointments.rendez_vous.serez_prevenu_cet_agenda'), { focus: true });
    } catch (err) {
      drop.disabled = false;
      showPageError(status, err);
    }
  });
  actions.append(el('li', {}, drop));
  li.append(actions);
  return li;
}

async function reloadWaitlist() {
  const { items } = await api.get('/appointments/waitlist');
  waitlist.replaceChildren(...(items.length ? items.map(waitItem) : [el('li', {}, tx('appointments.rendez_vous.aucune_demande_cours'))]));
}

// One list that cannot be read says so in its place; the others, and the
// message of what was just done, stay.
async function section(fn, ul) {
  try {
    await fn();
  } catch (err) {
    if (err.status === 401) {
      window.location.replace('/connexion.html');
      return;
    }
    const m = messageFor(err);
    ul.replaceChildren(el('li', { class: 'fr-error-text' }, `${m.title}. ${m.text || ''}`));
  }
}

async function reload() {
  await Promise.all([section(() => load('upcoming', false), lists.upcoming.ul),
    section(() => load('past', false), lists.past.ul), section(reloadWaitlist, waitlist)]);
}

for (const when of ['upcoming', 'past']) {
  lists[when].more.addEventListener('click', async () => {
    const b = lists[when].more;
    b.disabled = true;
    try {
      await load(when, true);
    } catch (err) {
      showPageError(status, err);
    } finally {
      b.disabled = false;
    }
  });
}

await reload();
