// Sign-out (members and agents): ends the session on the server.
import { api, forgetSession, session } from '../api.js';
import { showAlert, showPageError } from '../ui.js';
import { tx } from '../textes.js';

const status = document.getElementById('statut');
try {
  if (await session()) await api.post('/logout');
  forgetSession();
  showAlert(status, 'success', tx('commun.session_terminee'), tx('deconnexion.securite_fermez_navigateur_si'), { focus: true });
} catch (err) {
  showPageError(status, err);
}
