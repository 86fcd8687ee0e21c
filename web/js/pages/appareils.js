// Signed-in devices (sessions): one card each (readable on a phone, the
// button within reach), sign one out, or every other one at once after a
// confirmation (POST /sessions/revoke-others). A device signed out this way
// is told why at its next page (docs/api.md, signed_out).
import { api } from '../api.js';
import {
  countryName, describeDevice, el, formatDateTime, requireMember, showAlert, showPageError, signInUrl,
} from '../ui.js';
import { tx } from '../textes.js';

const status = document.getElementById('statut');
const list = document.getElementById('appareils');
const others = document.getElementById('autres');
const askOthers = document.getElementById('deconnecter-autres');
const confirmBox = document.getElementById('confirmation');
await requireMember();

function place(s) {
  const country = countryName(s.country);
  if (country && s.ip) return `${country} (adresse IP ${s.ip})`;
  return country || (s.ip ? tx('appareils.adresse_ip', { ip: s.ip }) : tx('appareils.lieu_inconnu'));
}

function detail(label, value) {
  return [el('dt', { class: 'fr-text--bold fr-mb-0' }, label), el('dd', { class: 'fr-ml-0 fr-mb-1w' }, value)];
}

function card(s) {
  const device = describeDevice(s.user_agent);
  const action = s.current
    ? el('p', { class: 'fr-badge fr-badge--info fr-badge--no-icon' }, tx('appareils.cet_appareil'))
    : el('button', {
      class: 'fr-btn fr-btn--sm fr-btn--secondary', type: 'button', 'data-id': s.id, 'data-device': device,
      'aria-label': tx('appareils.deconnecter_device_derniere_activite', { device, last_seen_at: formatDateTime(s.last_seen_at) }),
    }, tx('appareils.deconnecter'));
  return el('li', { class: 'fr-col-12 fr-col-md-6', 'data-session': s.id },
    el('div', { class: 'fr-card fr-card--no-arrow portail-appareil' },
      el('div', { class: 'fr-card__body' },
        el('div', { class: 'fr-card__content' },
          el('h3', { class: 'fr-card__title' }, device),
          el('dl', { class: 'fr-card__desc' },
            ...detail(tx('appareils.lieu_approximatif'), place(s)),
            ...detail(tx('appareils.connexion'), formatDateTime(s.created_at)),
            ...detail(tx('appareils.derniere_activite'), formatDateTime(s.last_seen_at)))),
        el('div', { class: 'fr-card__footer' }, action))));
}

async function load() {
  const { sessions } = await api.get('/sessions');
  list.replaceChildren(...sessions.map(card));
  const n = sessions.filter((s) => !s.current).length;
  others.hidden = n === 0;
  confirmBox.hidden = true;
  askOthers.hidden = false;
  document.getElementById('confirmation-titre').textContent = n > 1
    ? tx('appareils.deconnecter_autres_appareils', { n }) : tx('appareils.deconnecter_autre_appareil');
}

const AFTER = tx('appareils.cet_appareil_faudra_nouveau');

list.addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-id]');
  if (!b) return;
  b.disabled = true;
  try {
    await api.del(`/sessions/${encodeURIComponent(b.dataset.id)}`);
    await load();
    showAlert(status, 'success', tx('appareils.appareil_deconnecte_device', { device: b.dataset.device }), AFTER, { focus: true });
  } catch (err) {
    b.disabled = false;
    if (err.status === 404) {
      await load().catch(() => {});
      showAlert(status, 'info', tx('appareils.deja_deconnecte'), tx('appareils.cet_appareil_etait_connecte'), { focus: true });
    } else if (err.status === 401) {
      window.location.replace(signInUrl());
    } else {
      showPageError(status, err);
    }
  }
});

askOthers.addEventListener('click', () => {
  askOthers.hidden = true;
  confirmBox.hidden = false;
  confirmBox.focus();
});

document.getElementById('annuler-autres').addEventListener('click', () => {
  confirmBox.hidden = true;
  askOthers.hidden = false;
  askOthers.focus();
});

document.getElementById('confirmer-autres').addEventListener('click', async (ev) => {
  ev.target.disabled = true;
  try {
    const { revoked } = await api.post('/sessions/revoke-others');
    await load();
    showAlert(status, 'success',
      revoked > 1 ? tx('appareils.nombre_appareils_deconnectes', { revoked }) : (revoked === 1 ? tx('appareils.appareil_deconnecte') : tx('appareils.aucun_autre_appareil_etait')),
      tx('appareils.compte_ouvert_cet_appareil'),
      { focus: true, extra: el('a', { class: 'fr-link', href: '/mot-de-passe/changer.html' }, tx('appareils.changer_mot_passe')) });
  } catch (err) {
    if (err.status === 401) window.location.replace(signInUrl());
    else showPageError(status, err);
  } finally {
    ev.target.disabled = false;
  }
});

try {
  await load();
} catch (err) {
  if (err.status === 401) window.location.replace(signInUrl());
  else showPageError(status, err);
}
