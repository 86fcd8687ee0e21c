// "Mes rendez-vous": upcoming and past appointments (GET
// /api/v1/appointments?when=), each with its calendar file; an upcoming one
// is moved (creneaux.html?deplacer=) or cancelled after a confirmation,
// until the change deadline; the waitlist with the offers to take.
import { api } from '/js/api.js';
import { el, formatDate, messageFor, requireMember, showAlert, showPageError } from '/js/ui.js';
import { agendaAddress, agendaName, kindLabel, parisTime, parisWhen, statusBadge } from './common.js';

const status = document.getElementById('statut');
const lists = {
  upcoming: { ul: document.getElementById('a-venir'), more: document.getElementById('plus-a-venir'), cursor: null, empty: 'Aucun rendez-vous à venir.' },
  past: { ul: document.getElementById('passes'), more: document.getElementById('plus-passes'), cursor: null, empty: 'Aucun rendez-vous passé.' },
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
    'Ajouter à mon agenda', el('span', { class: 'fr-sr-only' }, ` — rendez-vous du ${parisWhen(a.start)}`),
    el('span', { class: 'fr-link__detail' }, 'Fichier ICS'));
}

function confirmCancel(li, a) {
  const box = li.querySelector('.rdv-confirmation');
  if (box) {
    box.querySelector('p').focus();
    return;
  }
  const text = el('p', { tabindex: '-1', class: 'fr-text--bold' },
    `Annuler le rendez-vous du ${parisWhen(a.start)}\u00a0? Le créneau sera proposé à d’autres patients.`);
  const yes = el('button', { class: 'fr-btn fr-btn--sm', type: 'button', 'data-action': 'confirmer-annulation' }, 'Oui, annuler le rendez-vous');
  const no = el('button', { class: 'fr-btn fr-btn--sm fr-btn--secondary', type: 'button' }, 'Non, le garder');
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
      showAlert(status, 'success', 'Rendez-vous annulé', `Votre rendez-vous du ${parisWhen(a.start)} est annulé.`, { focus: true });
    } catch (err) {
      yes.disabled = false;
      showPageError(status, err, { 409: { title: 'Annulation impossible' } });
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
    a.status === 'cancelled_by_office' && a.cancel_reason ? el('p', { class: 'fr-mb-1w' }, `Motif de l’annulation\u00a0: ${a.cancel_reason}`) : null);
  if (when === 'upcoming' && a.status === 'booked') {
    const actions = el('ul', { class: 'fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm fr-btns-group--icon-left' });
    if (a.can_change) {
      li.append(el('p', { class: 'fr-text--sm fr-mb-1w' }, `Vous pouvez le déplacer ou l’annuler en ligne jusqu’au ${parisWhen(a.change_until)}.`));
      const q = new URLSearchParams({ agenda: String(agendaId(a.agenda)), deplacer: String(a.id), kind: a.kind });
      actions.append(
        el('li', {}, el('a', { class: 'fr-btn fr-btn--secondary fr-icon-calendar-line', href: `/appointments/creneaux.html?${q}` },
          'Déplacer', el('span', { class: 'fr-sr-only' }, ` le rendez-vous du ${parisWhen(a.start)}`))),
        el('li', {}, el('button', { class: 'fr-btn fr-btn--tertiary fr-icon-close-circle-line', type: 'button', 'data-action': 'annuler' },
          'Annuler', el('span', { class: 'fr-sr-only' }, ` le rendez-vous du ${parisWhen(a.start)}`))));
    } else {
      li.append(el('p', { class: 'fr-text--sm fr-mb-1w' },
        `Le délai pour le déplacer ou l’annuler en ligne est passé${a.change_until ? ` (${parisWhen(a.change_until)})` : ''}\u00a0: appelez ${a.agenda && a.agenda.kind === 'office' ? 'l’accueil' : 'le cabinet'}.`));
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
    el('p', { class: 'fr-mb-1w' }, `${kindLabel(w.kind, w.agenda)} — un créneau avant le ${formatDate(w.before)}.`),
    w.created_at ? el('p', { class: 'fr-text--sm fr-mb-1w' }, `Demandé le ${parisWhen(w.created_at)}.`) : null);
  const actions = el('ul', { class: 'fr-btns-group fr-btns-group--inline-sm fr-btns-group--sm' });
  if (w.offer) {
    li.append(el('div', { class: 'fr-alert fr-alert--info fr-alert--sm fr-mb-2w' },
      el('p', {}, `Un créneau s’est libéré\u00a0: ${parisWhen(w.offer.start)}. Il vous est réservé jusqu’à ${parisTime(w.offer.until)}.`)));
    const take = el('button', { class: 'fr-btn', type: 'button' }, 'Prendre ce créneau',
      el('span', { class: 'fr-sr-only' }, ` du ${parisWhen(w.offer.start)}`));
    take.addEventListener('click', async () => {
      take.disabled = true;
      try {
        const a = await api.post(`/appointments/waitlist/${w.id}/accept`);
        await reload();
        showAlert(status, 'success', 'Rendez-vous confirmé', `Votre rendez-vous du ${parisWhen(a.start)} est confirmé.`, { focus: true });
      } catch (err) {
        take.disabled = false;
        showPageError(status, err, { 409: { title: 'Ce créneau n’est plus réservé pour vous' } });
        reloadWaitlist().catch(() => {});
      }
    });
    actions.append(el('li', {}, take));
  }
  const drop = el('button', { class: 'fr-btn fr-btn--tertiary', type: 'button' }, 'Retirer ma demande',
    el('span', { class: 'fr-sr-only' }, ` — ${agendaName(w.agenda)}`));
  drop.addEventListener('click', async () => {
    drop.disabled = true;
    try {
      await api.del(`/appointments/waitlist/${w.id}`);
      await reloadWaitlist();
      showAlert(status, 'success', 'Demande retirée', 'Vous ne serez plus prévenu pour cet agenda.', { focus: true });
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
  waitlist.replaceChildren(...(items.length ? items.map(waitItem) : [el('li', {}, 'Aucune demande en cours.')]));
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
