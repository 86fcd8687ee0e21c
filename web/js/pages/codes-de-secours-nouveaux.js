// New recovery codes for a signed-in member (issue 15): the password again,
// then ten codes in place of the old ones, shown once, with copy, download,
// print and "J’ai conservé mes codes" before leaving (second-factor.js).
import { api } from '../api.js';
import { bindForm, recheckMessages, requireMember } from '../ui.js';
import { showRecoveryCodes } from '../second-factor.js';
import { tx, txn } from '../textes.js';

const form = document.getElementById('formulaire');
const ask = document.getElementById('etape-demande');
const shown = document.getElementById('etape-secours');
await requireMember();

// How many are left today (GET /api/v1/me); nothing said when unknown.
try {
  const me = await api.get('/me');
  const n = me.recovery_codes_left;
  if (Number.isInteger(n)) {
    const left = document.getElementById('restants');
    left.textContent = n === 0 ? tx('codes_de_secours_nouveaux.reste_aucun_code_secours')
      : txn('commun.codes_de_secours_restants', n);
    left.hidden = false;
  }
} catch {
  // The form works without the count.
}

bindForm(form, async (v) => {
  const r = await api.post('/totp/recovery-codes', { password: v.password });
  form.reset();
  showRecoveryCodes(r.recovery_codes || []);
  ask.hidden = true;
  shown.hidden = false;
  shown.focus();
}, {
  messages: recheckMessages(),
});
