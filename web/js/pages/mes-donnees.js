// The member's own data: the download (a plain link to GET
// /api/v1/account/export, an attachment) and the closing of the online
// account with the password and a security code.
import { api } from '../api.js';
import { bindForm, el, requireMember, showAlert } from '../ui.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');
const content = document.getElementById('contenu-donnees');
await requireMember();

bindForm(form, async (v) => {
  await api.post('/account/close', { password: v.password, code: v.code });
  content.hidden = true;
  showAlert(status, 'success', tx('mes_donnees.compte_ligne_ferme'),
    tx('mes_donnees.e_mail_confirmation_ete'),
    { focus: true, extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/' }, tx('mes_donnees.retour_accueil')) });
}, {
  checks: { code: (s) => (/^\d{6}$/.test(s) ? null : tx('mes_donnees.code_securite_comporte_6')) },
  messages: { 401: { title: tx('mes_donnees.mot_passe_code_incorrect'), text: tx('mes_donnees.mot_passe_code_securite') } },
});
