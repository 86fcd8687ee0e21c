// Password change of a signed-in member. Once changed, the page says so
// (H1 and message) with the next step, instead of an emptied form.
import { api } from '../api.js';
import {
  bindForm, el, passwordChecks, recheckMessages, requireMember, retryWhenBusy, showOutcome,
} from '../ui.js';
import { passwordMeter } from '../password-meter.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
passwordMeter(form.elements.new);
const status = document.getElementById('statut');
await requireMember();

bindForm(form, async (v) => {
  // Busy (every hashing slot taken): the page tries again by itself.
  await retryWhenBusy(() => api.post('/password/change', { current: v.current, new: v.new }), status);
  form.reset();
  showOutcome(status, {
    heading: tx('commun.mot_passe_modifie'),
    kind: 'success',
    title: tx('commun.nouveau_mot_passe_enregistre'),
    text: tx('mot_de_passe_changer.autres_appareils_ont_ete'),
    extra: el('a', { class: 'fr-btn fr-mt-2w', href: '/tableau-de-bord.html' }, tx('mot_de_passe_changer.retour_tableau_bord')),
    hide: [form, document.getElementById('regles-mdp'), document.getElementById('avant-changement')],
  });
}, {
  checks: passwordChecks('new'),
  messages: recheckMessages(true),
});
