// Second factor with a single-use recovery code.
import { api } from '../api.js';
import {
  PAGES, bindForm, requirePartialMember, retryWhenBusy, showLockHere,
} from '../ui.js';

const form = document.getElementById('formulaire');
const status = document.getElementById('statut');
await requirePartialMember();

bindForm(form, async (v) => {
  // Busy (503 + a short Retry-After): the page tries again by itself.
  await retryWhenBusy(() => api.post('/login/recovery', { code: v.code.trim() }), status);
  window.location.assign(PAGES.dashboard);
}, {
  messages: { 401: { title: 'Code refusé', text: 'Ce code de secours est incorrect ou a déjà été utilisé.' } },
  // The fifth wrong code locks the account and ends the session (as on
  // the security-code page).
  onLocked: showLockHere,
});
