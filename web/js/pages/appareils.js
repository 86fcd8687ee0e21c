// Signed-in devices (sessions): one card each (readable on a phone, the
// button within reach), sign one out, or every other one at once after a
// confirmation (POST /sessions/revoke-others). A device signed out this way
// is told why at its next page (docs/api.md, signed_out).
import { api } from '../api.js';
import {
  countryName, describeDevice, el, formatDateTime, requireMember, showAlert, showPageError, signInUrl,
} from '../ui.js';

const status = document.getElementById('statut');
const list = document.getElementById('appareils');
const others = document.getElementById('autres');
const askOthers = document.getElementById('deconnecter-autres');
const confirmBox = document.getElementById('confirmation');
await requireMember();

function place(s) {
  const country = countryName(s.country);
  if (country && s.ip) return `${country} (adresse IP ${s.ip})`;
  return country || (s.ip ? `Adresse IP ${s.ip}` : 'Lieu inconnu');
}

function detail(label, value) {
  return [el('dt', { class: 'fr-text--bold fr-mb-0' }, label), el('dd', { class: 'fr-ml-0 fr-mb-1w' }, value)];
}

function card(s) {
  const device = describeDevice(s.user_agent);
  const action = s.current
    ? el('p', { class: 'fr-badge fr-badge--info fr-badge--no-icon' }, 'Cet appareil')
    : el('button', {
      class: 'fr-btn fr-btn--sm fr-btn--secondary', type: 'button', 'data-id': s.id, 'data-device': device,
      'aria-label': `Déconnecter ${device}, dernière activité le ${formatDateTime(s.last_seen_at)}`,
    }, 'Déconnecter');
  return el('li', { class: 'fr-col-12 fr-col-md-6', 'data-session': s.id },
    el('div', { class: 'fr-card fr-card--no-arrow portail-appareil' },
      el('div', { class: 'fr-card__body' },
        el('div', { class: 'fr-card__content' },
          el('h3', { class: 'fr-card__title' }, device),
          el('dl', { class: 'fr-card__desc' },
            ...detail('Lieu approximatif', place(s)),
            ...detail('Connexion', formatDateTime(s.created_at)),
            ...detail('Dernière activité', formatDateTime(s.last_seen_at)))),
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
    ? `Déconnecter les ${n} autres appareils\u00a0?` : 'Déconnecter l’autre appareil\u00a0?';
}

const AFTER = 'Sur cet appareil, il faudra de nouveau votre mot de passe et un code de sécurité pour accéder à votre compte. Si vous ne le reconnaissez pas, changez aussi votre mot de passe.';

list.addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-id]');
  if (!b) return;
  b.disabled = true;
  try {
    await api.del(`/sessions/${encodeURIComponent(b.dataset.id)}`);
    await load();
    showAlert(status, 'success', `Appareil déconnecté\u00a0: ${b.dataset.device}`, AFTER, { focus: true });
  } catch (err) {
    b.disabled = false;
    if (err.status === 404) {
      await load().catch(() => {});
      showAlert(status, 'info', 'Déjà déconnecté', 'Cet appareil n’était plus connecté.', { focus: true });
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
      revoked > 1 ? `${revoked} appareils déconnectés` : (revoked === 1 ? 'Un appareil déconnecté' : 'Aucun autre appareil n’était connecté'),
      'Votre compte n’est plus ouvert que sur cet appareil. Sur les autres, il faudra de nouveau votre mot de passe et un code de sécurité. Si vous n’en reconnaissiez pas un, changez aussi votre mot de passe.',
      { focus: true, extra: el('a', { class: 'fr-link', href: '/mot-de-passe/changer.html' }, 'Changer mon mot de passe') });
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
