// French labels of security events and audit actions (back office).
const EVENTS = {
  login_succeeded: 'Connexion réussie',
  login_password_ok: 'Mot de passe correct',
  login_failed: 'Mot de passe erroné',
  login_locked: 'Connexion refusée : compte bloqué',
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
  sessions_revoked_others: 'Tous les autres appareils déconnectés',
};

const ACTIONS = {
  unlock: 'Déblocage',
  lock: 'Blocage',
  member_view: 'Consultation de la fiche',
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

const human = (s) => String(s || '').replace(/_/g, ' ');
export const eventLabel = (k) => EVENTS[k] || human(k);
export const actionLabel = (k) => ACTIONS[k] || human(k);
export const lockLabel = (k) => LOCKS[k] || human(k);

/** The French detail of an event: lock reasons and sign-in methods named,
 * anything else as written. */
export const eventDetail = (kind, detail) => {
  if (!detail) return '';
  if (/^(account|login)_(un)?locked$/.test(kind) && LOCKS[detail]) return LOCKS[detail];
  return DETAILS[kind]?.[detail] || detail;
};
