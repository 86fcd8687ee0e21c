// Second factor: the TOTP code of a partial session.
import { api } from '../api.js';
import {
  PAGES, bindForm, requirePartialMember, retryWhenBusy, showLockHere,
} from '../ui.js';
import { tx } from '../textes.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');
const s = await requirePartialMember();
if (s.level === 'member') window.location.replace(PAGES.dashboard);

bindForm(form, async (v) => {
  try {
    // Busy (503 + a short Retry-After): the page tries again by itself.
    await retryWhenBusy(() => api.post('/login/totp', { code: v.code.replace(/\s+/g, '') }), status);
  } catch (err) {
    // The second factor is not set up yet: its enrolment instead.
    if (err.status === 409 && err.problem.next === 'totp_enroll') {
      window.location.assign(PAGES.enroll);
      return;
    }
    throw err;
  }
  window.location.assign(PAGES.dashboard);
}, {
  checks: { code: (c) => (/^\d{6}$/.test(c.replace(/\s+/g, '')) ? null : tx('commun.code_6_chiffres')) },
  // The fifth wrong code locks the account and ends the session: the lock
  // page here, with the reason and the way out of the answer.
  onLocked: showLockHere,
  messages: { 401: { title: tx('commun.code_refuse'), text: tx('commun.code_incorrect_deja_servi') } },
});
