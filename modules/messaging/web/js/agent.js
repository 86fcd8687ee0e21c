// Back office: the threads by service and filter, overdue ones flagged;
// for a supervisor (messaging.supervise), the agents of each team.
import { api } from '/js/api.js';
import {
  bindForm, el, formatDateTime, requireAgent, showAlert, showPageError,
} from '/js/ui.js';
import { tx } from '/js/textes.js';

const agentSession = await requireAgent();

const status = document.getElementById('statut');
const body = document.getElementById('conversations');
const more = document.getElementById('plus');
const form = document.getElementById('filtres');
const STATUS = { open: tx('commun.a_traiter'), answered: tx('commun.repondu'), closed: tx('commun.clos') };
let cursor = null;
let servicesShown = false;

function row(t) {
  return el('tr', { 'data-id': String(t.id) },
    el('td', {}, el('a', { href: `/messaging/agent-thread.html?id=${t.id}` }, t.subject),
      t.unread ? el('span', { class: 'fr-badge fr-badge--sm fr-badge--new fr-ml-1w' }, tx('messaging.agent.non_lu')) : null),
    el('td', {}, t.service_label),
    el('td', {}, STATUS[t.status] || t.status),
    el('td', {}, formatDateTime(t.last_activity_at)),
    el('td', {}, t.overdue ? el('span', { class: 'fr-badge fr-badge--sm fr-badge--error' }, tx('messaging.agent.retard')) : '—'));
}

async function page(reset) {
  if (reset) cursor = null;
  const params = new URLSearchParams({ limit: '20', filter: form.elements.filter.value });
  if (form.elements.service.value) params.set('service', form.elements.service.value);
  const age = Number(form.elements.older_than_hours.value || 0);
  if (age > 0) params.set('older_than_hours', String(age));
  if (cursor) params.set('cursor', cursor);
  const r = await api.get(`/backoffice/messaging/threads?${params}`);
  if (!servicesShown) {
    form.elements.service.append(...r.services.map((s) => el('option', { value: s.code }, s.label)));
    servicesShown = true;
  }
  if (reset) body.replaceChildren();
  if (reset && !r.threads.length) body.append(el('tr', {}, el('td', { colspan: '5' }, tx('commun.aucune_conversation'))));
  else body.append(...r.threads.map(row));
  cursor = r.next_cursor;
  more.hidden = !cursor;
}

async function run(reset) {
  try {
    await page(reset);
  } catch (err) {
    showPageError(status, err);
  }
}
form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  run(true);
});
more.addEventListener('click', () => run(false));
await run(true);

// ---- the teams (supervisors only) -------------------------------------------
const teamsBox = document.getElementById('equipes');
const teamList = document.getElementById('liste-equipes');
const teamForm = document.getElementById('ajout-equipe');
const teamStatus = document.getElementById('statut-equipes');
const teamsUrl = '/backoffice/messaging/teams';

function teamBlock(t) {
  return el('div', { class: 'fr-mb-3w', 'data-team': t.team },
    el('h3', { class: 'fr-h6 fr-mb-1v' }, tx('messaging.agent.equipe', { team: t.team })),
    el('p', { class: 'fr-text--sm fr-mb-1w' }, t.services.join(', ')),
    t.agents.length
      ? el('ul', { class: 'fr-raw-list' }, t.agents.map((a) => el('li', { class: 'fr-mb-1w', 'data-agent': String(a.id) },
        `${a.display_name} (${a.login})${a.disabled ? ', désactivé' : ''} `,
        el('button', {
          type: 'button',
          class: 'fr-btn fr-btn--sm fr-btn--tertiary fr-ml-1w',
          'data-team': t.team,
          'data-agent': String(a.id),
          'aria-label': tx('messaging.agent.retirer_display_name_equipe', { display_name: a.display_name, team: t.team }),
        }, tx('messaging.agent.retirer')))))
      : el('p', { class: 'fr-text--sm' }, tx('messaging.agent.aucun_agent')));
}

async function loadTeams() {
  const r = await api.get(teamsUrl);
  if (!teamForm.elements.team.options.length) {
    teamForm.elements.team.append(...r.teams.map((t) => el('option', { value: t.team }, `${t.team} (${t.services.join(', ')})`)));
  }
  teamList.replaceChildren(...r.teams.map(teamBlock));
}

if ((agentSession.permissions || []).includes('messaging.supervise')) {
  teamsBox.hidden = false;
  bindForm(teamForm, async (v) => {
    const a = await api.post(`${teamsUrl}/${encodeURIComponent(v.team)}/agents`, { login: v.login.trim() });
    teamForm.elements.login.value = '';
    await loadTeams();
    showAlert(teamStatus, 'success', tx('messaging.agent.agent_ajoute'), tx('messaging.agent.display_name_fait_partie', { display_name: a.display_name, team: a.team }));
  });
  teamList.addEventListener('click', async (ev) => {
    const b = ev.target.closest('button[data-agent]');
    if (!b) return;
    b.disabled = true;
    try {
      await api.del(`${teamsUrl}/${encodeURIComponent(b.dataset.team)}/agents/${encodeURIComponent(b.dataset.agent)}`);
      await loadTeams();
      showAlert(teamStatus, 'success', tx('messaging.agent.agent_retire'), tx('messaging.agent.agent_fait_partie_equipe', { team: b.dataset.team }));
    } catch (err) {
      b.disabled = false;
      showPageError(teamStatus, err);
    }
  });
  loadTeams().catch((err) => showPageError(teamStatus, err));
}
