// Signed-in devices (sessions) with revocation.
import { api } from '../api.js';
import { describeDevice, el, formatDateTime, requireMember, showAlert, showPageError } from '../ui.js';

const status = document.getElementById('statut');
const body = document.getElementById('appareils');
await requireMember();

async function load() {
  const { sessions } = await api.get('/sessions');
  body.replaceChildren(...sessions.map((s) => {
    const device = describeDevice(s.user_agent);
    const action = s.current
      ? el('span', { class: 'fr-badge fr-badge--info fr-badge--no-icon' }, 'Cet appareil')
      : el('button', {
        class: 'fr-btn fr-btn--sm fr-btn--secondary', type: 'button', 'data-id': s.id,
        'aria-label': `Déconnecter ${device}, dernière activité le ${formatDateTime(s.last_seen_at)}`,
      }, 'Déconnecter');
    return el('tr', {},
      el('td', {}, device),
      el('td', {}, s.ip || '—'),
      el('td', {}, s.country || '—'),
      el('td', {}, formatDateTime(s.created_at)),
      el('td', {}, formatDateTime(s.last_seen_at)),
      el('td', {}, action));
  }));
}

body.addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-id]');
  if (!b) return;
  b.disabled = true;
  try {
    await api.del(`/sessions/${encodeURIComponent(b.dataset.id)}`);
    await load();
    showAlert(status, 'success', 'Appareil déconnecté', 'Cet appareil devra saisir à nouveau le mot de passe et le code de sécurité.', { focus: true });
  } catch (err) {
    b.disabled = false;
    if (err.status === 404) {
      await load().catch(() => {});
      showAlert(status, 'info', 'Déjà déconnecté', 'Cet appareil n’était plus connecté.', { focus: true });
    } else {
      showPageError(status, err);
    }
  }
});

try {
  await load();
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
