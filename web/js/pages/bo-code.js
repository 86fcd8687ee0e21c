// Back office: the agent's TOTP code.
import { api, session } from '../api.js';
import { PAGES, bindForm } from '../ui.js';

const form = document.getElementById('formulaire');
const s = await session();
if (!s || s.kind !== 'agent') window.location.replace(PAGES.agentLogin);
else if (s.level === 'agent') window.location.replace(PAGES.agentHome);

bindForm(form, async (v) => {
  await api.post('/backoffice/login/totp', { code: v.code.replace(/\s+/g, '') });
  window.location.assign(PAGES.agentHome);
}, {
  checks: { code: (c) => (/^\d{6}$/.test(c.replace(/\s+/g, '')) ? null : 'Le code comporte 6 chiffres.') },
  messages: {
    401: { title: 'Code refusé', text: 'Ce code est incorrect ou a déjà servi. Attendez le code suivant puis réessayez.' },
    409: { title: 'Accès non activé', text: 'Votre accès n’est pas encore activé\u00a0: ouvrez le lien d’enrôlement qui vous a été remis.' },
  },
  onLocked: null,
});
