// Back office: the agent's TOTP code.
import { api, session } from '../api.js';
import { PAGES, bindForm } from '../ui.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
const s = await session();
if (!s || s.kind !== 'agent') window.location.replace(PAGES.agentLogin);
else if (s.level === 'agent') window.location.replace(PAGES.agentHome);

bindForm(form, async (v) => {
  await api.post('/backoffice/login/totp', { code: v.code.replace(/\s+/g, '') });
  window.location.assign(PAGES.agentHome);
}, {
  checks: { code: (c) => (/^\d{6}$/.test(c.replace(/\s+/g, '')) ? null : tx('commun.code_6_chiffres')) },
  messages: {
    401: { title: tx('commun.code_refuse'), text: tx('commun.code_incorrect_deja_servi') },
    409: { title: tx('bo.code.acces_non_active'), text: tx('bo.commun.acces_encore_active_ouvrez') },
  },
  onLocked: null,
});
