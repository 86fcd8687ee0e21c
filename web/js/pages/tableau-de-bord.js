// Dashboard: the member's name (GET me), the enabled modules (GET health)
// and the modules' cards (GET dashboard; a card in error says so and the
// rest of the page stays). The menu and the bell: js/portal.js, from the header.
import { api } from '../api.js';
import { el, localHref, requireMember, showAlert, showPageError } from '../ui.js';

const MODULES = {
  login: { title: 'Connexion et sécurité', text: 'Mot de passe, double authentification et appareils connectés.', href: '/compte/appareils.html', icon: 'fr-icon-lock-line' },
  unlock: { title: 'Déblocage du compte', text: 'Que faire si votre compte est bloqué.', href: '/compte-bloque.html', icon: 'fr-icon-lock-unlock-line' },
  reimbursements: { title: 'Mes remboursements', text: 'Suivre vos remboursements et envoyer une demande avec vos justificatifs.', icon: 'fr-icon-money-euro-circle-line' },
  coverage: { title: 'Attestation de droits', text: 'Télécharger votre attestation et gérer votre carte Vitale.', icon: 'fr-icon-file-text-line' },
  appointments: { title: 'Rendez-vous', text: 'Prendre, déplacer ou annuler un rendez-vous.', icon: 'fr-icon-calendar-line' },
  messaging: { title: 'Messagerie', text: 'Écrire à votre caisse et lire ses réponses.', icon: 'fr-icon-mail-line' },
};

const status = document.getElementById('statut');
await requireMember();

function tile(name) {
  const m = MODULES[name] || { title: name, text: '' };
  const title = m.href ? el('a', { href: m.href }, m.title) : m.title;
  return el('div', { class: 'fr-col-12 fr-col-md-6 fr-col-lg-4' },
    el('div', { class: `fr-tile${m.href ? ' fr-enlarge-link' : ''}`, 'data-module': name },
      el('div', { class: 'fr-tile__body' },
        el('div', { class: 'fr-tile__content' },
          el('h3', { class: 'fr-tile__title' }, title),
          m.text ? el('p', { class: 'fr-tile__desc' }, m.text) : null,
          m.href ? null : el('p', { class: 'fr-tile__detail' }, 'Bientôt disponible')))));
}

function card(c) {
  const title = c.title || c.module;
  const body = c.error
    ? el('p', { class: 'fr-tile__desc portail-carte-erreur' }, c.error)
    : (c.text ? el('p', { class: 'fr-tile__desc' }, c.text) : null);
  const link = !c.error && localHref(c.href);
  return el('div', { class: 'fr-col-12 fr-col-md-6 fr-col-lg-4' },
    el('div', { class: `fr-tile${link ? ' fr-enlarge-link' : ''}`, 'data-card': c.module, ...(c.error ? { 'data-error': 'true' } : {}) },
      el('div', { class: 'fr-tile__body' },
        el('div', { class: 'fr-tile__content' },
          el('h3', { class: 'fr-tile__title' }, link ? el('a', { href: link }, title) : title),
          body))));
}

async function showCards() {
  try {
    const { cards } = await api.get('/dashboard');
    if (cards && cards.length) {
      document.getElementById('cartes').replaceChildren(...cards.map(card));
      document.getElementById('section-cartes').hidden = false;
    }
  } catch {
    // the cards are a bonus: the page stands without them
  }
}
showCards();

try {
  const [me, health] = await Promise.all([api.get('/me'), api.get('/health').catch((e) => e.problem || {})]);
  const name = [me.first_name, me.last_name].filter(Boolean).join(' ');
  document.getElementById('bonjour').textContent = name ? `Bonjour ${name}` : 'Mon espace';
  const mods = (health.modules || []).map((m) => m.name);
  const box = document.getElementById('services');
  if (mods.length) box.replaceChildren(...mods.map(tile));
  else box.replaceChildren(el('p', {}, 'Aucun service n’est disponible pour le moment.'));
  if (me.totp_enabled === false) {
    showAlert(document.getElementById('alerte-codes'), 'warning', 'Double authentification désactivée',
      'Activez-la pour protéger votre compte.', { extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/double-authentification.html' }, 'Activer la double authentification') });
  } else if (Number.isFinite(me.recovery_codes_left) && me.recovery_codes_left <= 3) {
    showAlert(document.getElementById('alerte-codes'), 'warning', 'Codes de secours bientôt épuisés',
      `Il vous reste ${me.recovery_codes_left} code${me.recovery_codes_left > 1 ? 's' : ''} de secours.`,
      { extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/compte/codes-de-secours.html' }, 'Générer de nouveaux codes') });
  }
} catch (err) {
  if (err.status === 401) window.location.replace('/connexion.html');
  else showPageError(status, err);
}
