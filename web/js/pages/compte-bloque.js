// The lock page: the reason and the steps from GET unlock/status (partial
// session, right password given). Without that session the page keeps its
// general explanation.
import { api, session } from '../api.js';
import { el, formatDateTime, showAlert } from '../ui.js';

const reason = document.getElementById('raison');
const steps = document.getElementById('etapes');

const ACTIONS = {
  reset_password: () => el('a', { class: 'fr-btn fr-btn--secondary fr-mt-1w', href: '/mot-de-passe/oublie.html' }, 'Réinitialiser mon mot de passe'),
  call_fund: () => el('a', { class: 'fr-btn fr-btn--secondary fr-mt-1w', href: 'tel:3646' }, 'Appeler le 36 46'),
  confirm_update: () => el('p', { class: 'fr-mt-1w' }, 'Ouvrez le lien « Confirmer la mise à jour » de l’e-mail que nous vous avons envoyé.'),
  wait_agent: () => null,
};

const s = await session().catch(() => null);
if (s && s.kind === 'member') {
  try {
    const st = await api.get('/unlock/status');
    if (st.locked) {
      showAlert(reason, 'warning', 'Pourquoi ce blocage', st.reason_text || 'Votre compte est bloqué pour votre sécurité.', {
        extra: st.since ? el('p', { class: 'fr-text--sm fr-mb-0' }, `Depuis le ${formatDateTime(st.since)}.`) : null,
      });
      const list = (st.steps || []).map((step) => el('li', { class: 'fr-mb-2w' }, el('p', { class: 'fr-mb-0' }, step.text), ACTIONS[step.kind]?.()));
      if (list.length) steps.replaceChildren(el('ol', {}, list));
    } else {
      showAlert(reason, 'success', 'Votre compte n’est plus bloqué', 'Vous pouvez vous connecter.', {
        extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/connexion.html' }, 'Se connecter'),
      });
      steps.closest('section').hidden = true;
    }
  } catch {
    // No lock details available: the general explanation stays.
  }
}
