// Dashboard: the member's name and the previous sign-in (GET me), the
// services of the enabled modules (their menu entries, GET portal: no tile
// for a module that is off, none that is pointless once signed in) and the
// modules' cards (GET dashboard; a card in error says so and the rest of the
// page stays). The menu and the bell: js/portal.js, from the header.
// The page shows its sections at once, when the three answers are in (or
// after WAIT_MS): drawn one by one, each pushed the others and the footer
// down (Lighthouse measured a layout shift of 0.6). Until then the main
// block keeps the footer below the screen (.portail-chargement).
import { api } from '../api.js';
import {
  countryName, describeDevice, el, formatDateTime, localHref, requireMember, showAlert, showPageError, signInUrl,
} from '../ui.js';
import { tx, txn } from '../textes.js';

const status = document.getElementById('statut');
const WAIT_MS = 2500;
await requireMember();

function reveal() {
  document.getElementById('tableau').hidden = false;
  document.getElementById('contenu').classList.remove('portail-chargement');
}

function tile(item) {
  const href = localHref(item.href);
  if (!href) return null;
  return el('div', { class: 'fr-col-12 fr-col-md-6 fr-col-lg-4' },
    el('div', { class: 'fr-tile fr-enlarge-link', 'data-module': item.module },
      el('div', { class: 'fr-tile__body' },
        el('div', { class: 'fr-tile__content' },
          el('h3', { class: 'fr-tile__title' }, el('a', { href }, item.label)),
          item.text ? el('p', { class: 'fr-tile__desc' }, item.text) : null))));
}

function card(c, labels) {
  // A card in error has no title of its own: the module's menu label.
  const title = c.title || labels[c.module] || tx('tableau_de_bord.service');
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

/** "Dernière connexion : le 3 mars 2025 à 14:05, Safari sur iOS, Espagne." */
function lastSignIn(last) {
  const box = document.getElementById('derniere-connexion');
  if (!last || !last.at) {
    box.hidden = true;
    return;
  }
  const where = countryName(last.country);
  const parts = [`le ${formatDateTime(last.at)}`, describeDevice(last.user_agent), where].filter(Boolean);
  box.replaceChildren(
    el('span', { class: 'fr-text--bold' }, tx('tableau_de_bord.derniere_connexion')), `${parts.join(', ')}. `,
    tx('tableau_de_bord.ce_n_etait_pas_vous'), el('a', { href: '/compte/appareils.html' }, tx('tableau_de_bord.voir_appareils_connectes')), '.');
  box.hidden = false;
}

const portalAnswer = api.get('/portal').catch(() => null);

async function showCards() {
  try {
    const [{ cards }, portal] = await Promise.all([api.get('/dashboard'), portalAnswer]);
    const labels = Object.fromEntries(((portal && portal.items) || []).map((i) => [i.module, i.label]));
    if (cards && cards.length) {
      document.getElementById('cartes').replaceChildren(...cards.map((c) => card(c, labels)));
      document.getElementById('section-cartes').hidden = false;
    }
  } catch {
    // the cards are a bonus: the page stands without them
  }
}
const cardsShown = showCards();

try {
  const [me, portal] = await Promise.all([api.get('/me'), portalAnswer]);
  const name = [me.first_name, me.last_name].filter(Boolean).join(' ');
  document.getElementById('bonjour').textContent = name ? tx('tableau_de_bord.bonjour', { name }) : tx('tableau_de_bord.mon_espace');
  lastSignIn(me.last_sign_in);
  const box = document.getElementById('services');
  const tiles = portal ? (portal.items || []).map(tile).filter(Boolean) : [];
  if (tiles.length) box.replaceChildren(...tiles);
  else if (portal) box.replaceChildren(el('p', {}, tx('tableau_de_bord.aucun_service_disponible_moment')));
  else box.replaceChildren(el('p', {}, tx('tableau_de_bord.liste_services_pu_etre')));
  if (me.totp_enabled === false) {
    showAlert(document.getElementById('alerte-codes'), 'warning', tx('tableau_de_bord.double_authentification_desactivee'),
      tx('tableau_de_bord.activez_proteger_compte'), { extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/double-authentification.html' }, tx('tableau_de_bord.activer_double_authentification')) });
  } else if (Number.isFinite(me.recovery_codes_left) && me.recovery_codes_left <= 3) {
    showAlert(document.getElementById('alerte-codes'), 'warning', tx('tableau_de_bord.codes_secours_bientot_epuises'),
      txn('commun.codes_de_secours_restants', me.recovery_codes_left),
      { extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/compte/codes-de-secours.html' }, tx('commun.generer_nouveaux_codes')) });
  }
  await Promise.race([cardsShown, new Promise((done) => { setTimeout(done, WAIT_MS); })]);
  reveal();
} catch (err) {
  if (err.status === 401) window.location.replace(signInUrl());
  else {
    reveal();
    showPageError(status, err);
  }
}
