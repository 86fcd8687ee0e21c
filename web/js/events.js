// French labels of security events and audit actions (back office).
import { tx } from './textes.js';
const EVENTS = {
  login_succeeded: tx('commun.connexion_reussie'),
  login_password_ok: tx('events.mot_passe_correct'),
  login_failed: tx('events.mot_passe_errone'),
  login_locked: tx('events.connexion_refusee_compte_bloque'),
  new_country: tx('events.connexion_depuis_nouveau_pays'),
  totp_enabled: tx('events.double_authentification_activee'),
  totp_failed: tx('events.code_securite_errone'),
  totp_replayed: tx('events.code_securite_reutilise'),
  totp_reset: tx('events.double_authentification_reinitialisee'),
  totp_reset_failed: tx('events.echec_reinitialisation_double_authentification'),
  recovery_code_used: tx('events.code_secours_utilise'),
  recovery_code_failed: tx('events.code_secours_errone'),
  account_created: tx('events.compte_cree'),
  register_existing: tx('events.nouvelle_demande_inscription_compte'),
  account_locked: tx('commun.compte_bloque'),
  account_unlocked: tx('commun.compte_debloque'),
  account_update_confirmed: tx('events.mise_jour_confirmee'),
  password_changed: tx('commun.mot_passe_modifie'),
  password_change_failed: tx('events.echec_changement_mot_passe'),
  password_reset: tx('events.mot_passe_reinitialise'),
  password_reset_requested: tx('events.reinitialisation_demandee'),
  session_revoked: tx('events.appareil_deconnecte'),
  device_blocked: tx('events.appareil_bloque_trop_erreurs'),
  document_infected: tx('events.fichier_refuse_antivirus'),
  vitale_reported: tx('events.carte_vitale_declaree_perdue'),
  data_exported: tx('events.donnees_personnelles_telechargees'),
  account_close_failed: tx('events.fermeture_compte_refusee'),
  sessions_revoked_others: tx('events.autres_appareils_deconnectes'),
};

const ACTIONS = {
  unlock: tx('commun.deblocage'),
  lock: tx('events.blocage'),
  member_view: tx('events.consultation_fiche'),
  member_events: tx('events.consultation_evenements_securite'),
  member_search: tx('events.recherche_assure'),
  member_history: tx('events.consultation_historique_compte'),
  audit_export: tx('events.export_journal_audit'),
  'appointments.closure.cancel': tx('events.rendez_annules_fermeture'),
  'appointments.day.read': tx('events.consultation_rendez_jour'),
  'coverage.card_report_cancelled': tx('events.declaration_carte_vitale_annulee'),
  'coverage.profile_change_decided': tx('events.modification_informations_traitee'),
  'coverage.read': tx('events.consultation_droits'),
  'messaging.attachment.read': tx('events.ouverture_piece_jointe'),
  'messaging.backlog.read': tx('events.consultation_messages_attente'),
  'messaging.team.add': tx('events.ajout_equipe_messagerie'),
  'messaging.team.remove': tx('events.retrait_equipe_messagerie'),
  'messaging.teams.read': tx('events.consultation_equipes_messagerie'),
  'messaging.thread.close': tx('commun.conversation_close'),
  'messaging.thread.read': tx('events.lecture_conversation'),
  'messaging.thread.reassign': tx('events.conversation_reattribuee'),
  'messaging.thread.reply': tx('events.reponse_message'),
  'messaging.thread.take': tx('events.conversation_prise_charge'),
  'messaging.threads.list': tx('events.consultation_conversations'),
  'reimbursements.claim.approve': tx('events.demande_remboursement_acceptee'),
  'reimbursements.claim.ask': tx('events.piece_demandee_remboursement'),
  'reimbursements.claim.document': tx('events.ouverture_justificatif'),
  'reimbursements.claim.read': tx('events.consultation_demande_remboursement'),
  'reimbursements.claim.reject': tx('events.demande_remboursement_refusee'),
  'reimbursements.claim.take': tx('events.demande_remboursement_prise_charge'),
  'reimbursements.claims.queue': tx('events.consultation_demandes_traiter'),
  'reimbursements.payment.correct': tx('events.paiement_corrige'),
  login: tx('events.connexion_agent'),
  login_failed: tx('events.echec_connexion_agent'),
  totp_failed: tx('events.code_securite_errone_agent'),
  totp_replayed: tx('events.code_securite_reutilise_agent'),
  locked: tx('events.acces_agent_bloque'),
  enrolled: tx('events.enrolement_termine'),
  enrolment_link: tx('events.lien_enrolement_cree'),
};

const LOCKS = {
  password: tx('events.erreurs_mot_passe'),
  second_factor: tx('events.erreurs_code_securite'),
  suspicious: tx('events.activite_suspecte'),
  pending_verification: tx('events.mise_jour_verifier'),
  agent: tx('events.blocage_conseiller'),
};

// The detail of some events is a code of its own.
const DETAILS = {
  login_succeeded: { totp: tx('events.code_securite'), recovery_code: tx('events.code_secours'), totp_enrolment: tx('events.activation_double_authentification') },
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
    return name ? tx('events.name_agent_caisse', { name }) : (login ? tx('events.agent_caisse_identifiant', { login }) : tx('events.agent_caisse'));
  }
  if (raw.startsWith('reset')) return tx('events.assure_choisissant_nouveau_mot');
  if (raw.startsWith('verification')) return tx('events.assure_confirmant_modification_informations');
  if (/^system: portailctl/.test(raw)) return tx('events.administrateur_portail');
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
    const who = tx('events.par_detail', { detail: actorLabel(detail, agentName) });
    return why && !/^portailctl/.test(why) ? `${who} — ${why}` : who;
  }
  return DETAILS[kind]?.[detail] || detail;
};
