// Second factor with a single-use recovery code.
import { api } from '../api.js';
import { PAGES, bindForm, requirePartialMember } from '../ui.js';

const form = document.getElementById('formulaire');
await requirePartialMember();

bindForm(form, async (v) => {
  await api.post('/login/recovery', { code: v.code.trim() });
  window.location.assign(PAGES.dashboard);
}, {
  messages: { 401: { title: 'Code refusé', text: 'Ce code de secours est incorrect ou a déjà été utilisé.' } },
});
