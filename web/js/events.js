// French labels of security events and audit actions (back office).
const EVENTS = {
  login_succeeded: 'Connexion réussie',
  login_password_ok: 'Mot de passe correct',
  login_failed: 'Mot de passe erroné',
  login_locked: 'Connexion refusée\u00a0: compte bloqué',
  new_country: 'Connexion depuis un nouveau pays',
  totp_enabled: 'Double authentification activée',
  totp_failed: 'Code de sécurité erroné',
  totp_replayed: 'Code de sécurité réutilisé',
  totp_reset: 'Double authentification réinitialisée',
  totp_reset_failed: 'Échec de la réinitialisation de la double authentification',
  recovery_code_used: 'Code de secours utilisé',
  recovery_code_failed: 'Code de secours erroné',
  account_created: 'Compte créé',
  register_existing: 'Nouvelle demande d’inscription (compte existant)',
  account_locked: 'Compte bloqué',
  account_unlocked: 'Compte débloqué',
  account_update_confirmed: 'Mise à jour confirmée',
  password_changed: 'Mot de passe modifié',
  password_change_failed: 'Échec du changement de mot de passe',
  password_reset: 'Mot de passe réinitialisé',
  password_reset_requested: 'Réinitialisation demandée',
  session_revoked: 'Appareil déconnecté',
  device_blocked: 'Appareil bloqué (trop d’erreurs de mot de passe)',
  document_infected: 'Fichier refusé par l’antivirus',
  vitale_reported: 'Carte Vitale déclarée perdue ou volée',
  data_exported: 'Données personnelles téléchargées',
  account_close_failed: 'Fermeture du compte refusée',
  sessions_revoked_others: 'Tous les autres appareils déconnectés',
};

const ACTIONS = {
  unlock: 'Déblocage',
  lock: 'Blocage',
  member_view: 'Consultation de la fiche',
  member_events: 'Consultation des événements de sécurité',
  member_search: 'Recherche d’un assuré',
  member_history: 'Consultation de l’historique du compte',
  audit_export: 'Export du journal d’audit',
  'appointments.closure.cancel': 'Rendez-vous annulés (fermeture)',
  'appointments.day.read': 'Consultation des rendez-vous du jour',
  'coverage.card_report_cancelled': 'Déclaration de carte Vitale annulée',
  'coverage.profile_change_decided': 'Modification des informations traitée',
  'coverage.read': 'Consultation des droits',
  'messaging.attachment.read': 'Ouverture d’une pièce jointe',
  'messaging.backlog.read': 'Consultation des messages en attente',
  'messaging.team.add': 'Ajout à une équipe de la messagerie',
  'messaging.team.remove': 'Retrait d’une équipe de la messagerie',
  'messaging.teams.read': 'Consultation des équipes de la messagerie',
  'messaging.thread.close': 'Conversation close',
  'messaging.thread.read': 'Lecture d’une conversation',
  'messaging.thread.reassign': 'Conversation réattribuée',
  'messaging.thread.reply': 'Réponse à un message',
  'messaging.thread.take': 'Conversation prise en charge',
  'messaging.threads.list': 'Consultation des conversations',
  'reimbursements.claim.approve': 'Demande de remboursement acceptée',
  'reimbursements.claim.ask': 'Pièce demandée pour un remboursement',
  'reimbursements.claim.document': 'Ouverture d’un justificatif',
  'reimbursements.claim.read': 'Consultation d’une demande de remboursement',
  'reimbursements.claim.reject': 'Demande de remboursement refusée',
  'reimbursements.claim.take': 'Demande de remboursement prise en charge',
  'reimbursements.claims.queue': 'Consultation des demandes à traiter',
  'reimbursements.payment.correct': 'Paiement corrigé',
  login: 'Connexion de l’agent',
  login_failed: 'Échec de connexion de l’agent',
  totp_failed: 'Code de sécurité erroné (agent)',
  totp_replayed: 'Code de sécurité réutilisé (agent)',
  locked: 'Accès de l’agent bloqué',
  enrolled: 'Enrôlement terminé',
  enrolment_link: 'Lien d’enrôlement créé',
};

const LOCKS = {
  password: 'Erreurs de mot de passe',
  second_factor: 'Erreurs de code de sécurité',
  suspicious: 'Activité suspecte',
  pending_verification: 'Mise à jour à vérifier',
  agent: 'Blocage par un conseiller',
};

// The detail of some events is a code of its own.
const DETAILS = {
  login_succeeded: { totp: 'avec le code de sécurité', recovery_code: 'avec un code de secours', totp_enrolment: 'à l’activation de la double authentification' },
};

// An action or event no table names yet: its words, never its code.
const human = (s) => String(s || '').replace(/[_.]/g, ' ');

/** Who placed or lifted a lock, in words, from the core's raw value
 * ("agent:LOGIN[: why]", "system[: why]", "reset", "verification[: what]");
 * name: the agent's display name when the API gives it. Never the raw
 * value: "portailctl", "agent:mleroy" mean nothing to a caller. */
export function actorLabel(by, name) {
  const raw = String(by || 'system');
  if (raw.startsWith('agent')) {
    const login = raw.slice(6).split(':')[0];
    return name ? `${name} (agent de la caisse)` : `un agent de la caisse${login ? ` (identifiant ${login})` : ''}`;
  }
  if (raw.startsWith('reset')) return 'l’assuré, en choisissant un nouveau mot de passe';
  if (raw.startsWith('verification')) return 'l’assuré, en confirmant la modification de ses informations';
  if (/^system: portailctl/.test(raw)) return 'un administrateur du portail';
  return 'le portail, automatiquement';
}
export const eventLabel = (k) => EVENTS[k] || human(k);
export const actionLabel = (k) => ACTIONS[k] || human(k);
export const lockLabel = (k) => LOCKS[k] || human(k);

/** The French detail of an event: lock reasons and sign-in methods named,
 * anything else as written. */
export const eventDetail = (kind, detail, agentName) => {
  if (!detail) return '';
  if (/^(account|login)_(un)?locked$/.test(kind) && LOCKS[detail]) return LOCKS[detail];
  if (kind === 'account_unlocked') {
    const why = /^(agent:[^:]*|[a-z]+): (.+)$/.exec(detail)?.[2];
    const who = `Par ${actorLabel(detail, agentName)}`;
    return why && !/^portailctl/.test(why) ? `${who} — ${why}` : who;
  }
  return DETAILS[kind]?.[detail] || detail;
};
