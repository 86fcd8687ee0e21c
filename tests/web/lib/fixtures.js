// API answers shaped as docs/api.md says, for the page checks that mock the
// API (page.route): every page can be shown, with data, whatever module is
// there yet. The flows (member, lock, back office) use the real modules.
const now = Date.now();
const iso = (msAgo) => new Date(now - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');

// A small valid SVG standing for libqrencode's.
const QR = (() => {
  let rects = '';
  for (let y = 0; y < 21; y++) {
    for (let x = 0; x < 21; x++) {
      const finder = (a, b) => a < 7 && b < 7 && (a === 0 || a === 6 || b === 0 || b === 6 || (a > 1 && a < 5 && b > 1 && b < 5));
      const on = finder(x, y) || finder(20 - x, y) || finder(x, 20 - y) || (!(x < 8 && y < 8) && ((x * 7 + y * 13) % 5 === 0));
      if (on) rects += `<rect x="${x + 2}" y="${y + 2}" width="1" height="1"/>`;
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 25 25" shape-rendering="crispEdges"><rect width="25" height="25" fill="#fff"/><g fill="#000">${rects}</g></svg>`;
})();

export const member = {
  id: 42, nir: '184057505612345', first_name: 'Camille', last_name: 'Durand', birth_date: '1984-05-17',
  email: 'camille.durand@example.fr', fund: 'CPAM de Paris', totp_enabled: true, recovery_codes_left: 8,
};

export const API = {
  'GET /api/v1/health': [200, { status: 'ok', version: '0.1.0', db: 'up', modules: ['login', 'unlock', 'reimbursements', 'coverage', 'appointments', 'messaging'].map((name) => ({ name, version: '1.0.0' })) }],
  'GET /api/v1/me': [200, member],
  'GET /api/v1/sessions': [200, { sessions: [
    { id: 7, created_at: iso(3600e3), last_seen_at: iso(60e3), ip: '2.2.2.2', country: 'FR', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36', current: true },
    { id: 5, created_at: iso(86400e3 * 2), last_seen_at: iso(86400e3), ip: '5.39.1.1', country: 'GB', user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1', current: false },
  ] }],
  'GET /api/v1/totp/enroll': [200, { secret_base32: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/Portail:184057505612345?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Portail', qr_svg: QR }],
  'POST /api/v1/totp/enroll': [200, { recovery_codes: ['k7f3-9q2m-x8wd', 'p4rt-a2il-77cb', 'zz3q-m0n1-4hy8', 'c9vb-31kd-qe5r', 'w2e8-h7gj-ua0p', 'b5xn-6fk2-rt9m', 'y1ol-d8sa-3vcz', 'g6mu-q4we-np2x', 'e3tj-7ybh-k5fd', 'r8ci-2zxs-l0qa'] }],
  'GET /api/v1/unlock/status': [200, {
    locked: true, reason: 'password', reason_text: 'Votre compte a été bloqué après 5 saisies erronées de votre mot de passe.', since: iso(600e3),
    steps: [
      { kind: 'reset_password', text: 'Réinitialisez votre mot de passe : il vous sera demandé votre numéro de sécurité sociale, votre date de naissance et votre adresse e-mail.' },
      { kind: 'call_fund', text: 'Autre solution\u00a0: appelez votre caisse au 36 46 (service gratuit + prix d’un appel).', phone: '36 46', tel: '3646' },
    ],
  }],
  'GET /api/v1/backoffice/members': [200, {
    id: 42, nir: member.nir, first_name: 'Camille', last_name: 'Durand', birth_date: '1984-05-17', email: member.email, fund: 'CPAM de Paris',
    lock: { reason: 'suspicious', reason_text: 'Connexion depuis un pays inhabituel (US).', since: iso(900e3), by: 'system' },
    counters: { password_failures: 0, second_factor_failures: 0 },
    last_sign_ins: [{ at: iso(86400e3), ip: '2.2.2.2', country: 'FR' }, { at: iso(86400e3 * 3), ip: '2.2.2.2', country: 'FR' }],
  }],
  // Search: the member (account 42).
  'GET /api/v1/backoffice/insured': [200, { truncated: false, max: 20, results: [
    { insured_id: 7, nir: member.nir, first_name: 'Camille', last_name: 'Durand', birth_date: '1984-05-17', postal_code: '75015', city: 'Paris', fund: 'CPAM de Paris', member_id: 42 },
  ] }],
  'GET /api/v1/backoffice/members/42/history': [200, { entries: [
    { at: iso(900e3), action: 'lock', motive: null, agent_name: null, agent_login: null, detail: 'suspicious', seq: 3 },
    { at: iso(86400e3 * 2), action: 'unlock', motive: 'Appel de l’assurée, identité vérifiée par questions.', agent_name: 'Marie Leroy', agent_login: 'mleroy', detail: null, seq: 2 },
    { at: iso(86400e3 * 2 + 600e3), action: 'lock', motive: null, agent_name: null, agent_login: null, detail: 'password', seq: 1 },
  ] }],
  'GET /api/v1/backoffice/members/42/events': [200, { events: [
    { id: 4, kind: 'account_unlocked', detail: 'agent:mleroy', agent_name: 'Marie Leroy', ip: '10.0.0.12', country: 'FR', user_agent: null, created_at: iso(86400e3 * 2) },
    { id: 3, kind: 'account_locked', detail: 'suspicious', ip: '8.8.8.8', country: 'US', user_agent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1', created_at: iso(900e3) },
    { id: 2, kind: 'sign_in', detail: '', ip: '2.2.2.2', country: 'FR', user_agent: 'Chrome', created_at: iso(86400e3) },
    { id: 1, kind: 'account_created', detail: '', ip: '2.2.2.2', country: 'FR', user_agent: 'Chrome', created_at: iso(86400e3 * 3) },
  ], next_cursor: null }],
  'GET /api/v1/backoffice/audit': [200, { entries: [
    { id: 2, agent_login: 'mleroy', agent_name: 'Marie Leroy', member_id: 42, member_first_name: 'Camille', member_last_name: 'Durand', member_nir: member.nir, action: 'unlock', reason: 'Appel de l’assurée, identité vérifiée, en voyage aux États-Unis.', ip: '10.0.0.12', created_at: iso(300e3) },
    { id: 1, agent_login: 'mleroy', agent_name: 'Marie Leroy', member_id: 17, member_first_name: 'Hugo', member_last_name: 'Petit', member_nir: '190027505612367', action: 'lock', reason: 'Signalement de fraude par l’assuré.', ip: '10.0.0.12', created_at: iso(86400e3) },
  ], next_cursor: null }],
  'GET /api/v1/backoffice/me': [200, { id: 1, login: 'mleroy', display_name: 'Marie Leroy', role: 'supervisor' }],
  'POST /api/v1/backoffice/enroll': [200, { secret_base32: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/Portail%20agents:mleroy?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', qr_svg: QR }],
  // The portal, the dashboard's cards and the notifications (core routes).
  'GET /api/v1/portal': [200, { menu: 'member', modules: ['login', 'unlock', 'reimbursements'], unread: 2, items: [
    { label: 'Mes remboursements', href: '/remboursements/', text: 'Suivre vos remboursements.', module: 'reimbursements' },
    { label: 'Mon compte', href: '/compte/appareils.html', text: null, module: 'login' }] }],
  'GET /api/v1/dashboard': [200, { cards: [
    { module: 'reimbursements', title: 'Mes remboursements', text: '2 remboursements ce mois-ci.', href: '/remboursements/', count: 2 },
    { module: 'messaging', error: 'Information momentanément indisponible' }] }],
  'GET /api/v1/notifications': [200, { unread: 2, next_cursor: null, items: [
    { id: 3, kind: 'reimbursements.paid', title: 'Remboursement effectué', text: 'Un remboursement de 25,00 € a été versé sur votre compte.', link: '/remboursements/', created: iso(3600e3), read_at: null, read: false },
    { id: 2, kind: 'messaging.reply', title: 'Réponse à votre message', text: 'Votre caisse a répondu à votre message.', link: '/messagerie/', created: iso(86400e3), read_at: null, read: false },
    { id: 1, kind: 'coverage.ready', title: 'Attestation disponible', text: 'Votre attestation de droits est prête.', link: null, created: iso(3 * 86400e3), read_at: iso(2 * 86400e3), read: true }] }],
  'GET /api/v1/notifications/preferences': [200, { kinds: [
    { kind: 'reimbursements.paid', label: 'Un remboursement est effectué', mail: true },
    { kind: 'messaging.reply', label: 'Une réponse à votre message', mail: false }] }],
  'POST /api/v1/notifications/read-all': [200, { marked: 2, unread: 0 }],
  'POST /api/v1/notifications/3/read': [200, { unread: 1 }],
  'PUT /api/v1/notifications/preferences': [200, { kinds: [
    { kind: 'reimbursements.paid', label: 'Un remboursement est effectué', mail: true },
    { kind: 'messaging.reply', label: 'Une réponse à votre message', mail: true }] }],
};

export const sessions = {
  none: [401, { type: 'about:blank', title: 'Non authentifié', status: 401, detail: 'Aucune session en cours.' }],
  partial: [200, { kind: 'member', level: 'partial', role: null, csrf_token: 'a'.repeat(64) }],
  member: [200, { kind: 'member', level: 'member', role: null, csrf_token: 'a'.repeat(64) }],
  agentPartial: [200, { kind: 'agent', level: 'partial', role: 'supervisor', csrf_token: 'a'.repeat(64) }],
  agent: [200, { kind: 'agent', level: 'agent', role: 'supervisor', csrf_token: 'a'.repeat(64) }],
};

export function problem(status, extra = {}) {
  const titles = { 401: 'Non authentifié', 410: 'Lien expiré', 422: 'Données invalides', 423: 'Compte bloqué', 429: 'Trop de requêtes', 503: 'Service indisponible' };
  return { type: 'about:blank', title: titles[status] || 'Erreur', status, detail: extra.detail || 'Détail du serveur.', request_id: 'req-test-1', ...extra };
}

/** Routes /api/v1/* of a context or page to the fixtures; session is one of
 * sessions' keys; overrides: {'METHOD /path': [status, body, headers]}.
 * Every call is recorded in the returned array. */
export async function mockApi(target, session = 'none', overrides = {}) {
  const calls = [];
  await target.route('**/api/v1/**', async (route) => {
    const req = route.request();
    const u = new URL(req.url());
    const key = `${req.method()} ${u.pathname}`;
    calls.push({ key, headers: req.headers(), body: req.postData(), search: u.search });
    let answer = overrides[key] || (key === 'GET /api/v1/session' ? sessions[session] : API[key]);
    if (!answer && req.method() !== 'GET') answer = [200, { status: 'ok' }];
    if (!answer) answer = [404, problem(404, { detail: 'Introuvable.' })];
    const [status, body, headers = {}] = answer;
    await route.fulfill({
      status,
      headers: { 'Cache-Control': 'no-store', ...headers },
      contentType: status >= 400 ? 'application/problem+json' : 'application/json',
      body: status === 204 ? '' : JSON.stringify(body),
    });
  });
  return calls;
}
