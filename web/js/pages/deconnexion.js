// Sign-out (members and agents): ends the session on the server.
import { api, forgetSession, session } from '../api.js';
import { showAlert, showPageError } from '../ui.js';

const status = document.getElementById('statut');
try {
  if (await session()) await api.post('/logout');
  forgetSession();
  showAlert(status, 'success', 'Session terminée', 'Pour votre sécurité, fermez le navigateur si vous utilisez un ordinateur partagé.', { focus: true });
} catch (err) {
  showPageError(status, err);
}
