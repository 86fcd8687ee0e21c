// What the pages of the second factor share (first enrolment, change of
// phone, new recovery codes, issue 15): the new authenticator's QR code, its
// "Ajouter à mon application" otpauth:// link (a phone cannot scan its own
// screen) and its key in groups of 4 that never break inside a group, with
// "Copier la clé"; then the recovery codes, shown once, with copy, download
// and print, and the "J’ai conservé mes codes" box that the continue button
// waits for. The markup is the page's (ids below); this binds it.
import { bindForm, el, showAlert } from './ui.js';
import { tx } from './textes.js';

/** The API's SVG as an image source: no markup of the API in the page. */
export function svgDataUrl(svg) {
  const bytes = new TextEncoder().encode(svg);
  let bin = '';
  bytes.forEach((b) => { bin += String.fromCharCode(b); });
  return `data:image/svg+xml;base64,${btoa(bin)}`;
}

/** The key as groups of 4 characters: each group a nowrap span, a space
 * between groups (where a line may break). */
export function keyGroups(base32) {
  const groups = String(base32 || '').replace(/\s+/g, '').match(/.{1,4}/g) || [];
  const out = [];
  groups.forEach((g, i) => {
    if (i) out.push(' ');
    out.push(el('span', { class: 'portail-cle-groupe' }, g));
  });
  return out;
}

// Copies text; when the Clipboard API is refused, selects `fallback` (an
// element) so that the person copies it with the system's menu. Says which
// in `status` (aria-live). Returns true when copied.
async function copyOrSelect(text, fallback, status, done, manual) {
  try {
    await navigator.clipboard.writeText(text);
    showAlert(status, 'success', done.title, done.text);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(fallback);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    showAlert(status, 'warning', tx('second_factor.copie_automatique_impossible'), manual);
    return false;
  }
}

/** Shows an enrolment {secret_base32, otpauth_uri, qr_svg} in the page's
 * #qr (img), #ajouter (a), #secret, with #copier-cle and #cle-statut. */
export function showEnrolment(e) {
  document.getElementById('qr').src = svgDataUrl(e.qr_svg);
  const add = document.getElementById('ajouter');
  if (/^otpauth:\/\/totp\//.test(e.otpauth_uri || '')) add.href = e.otpauth_uri;
  const key = document.getElementById('secret');
  key.replaceChildren(...keyGroups(e.secret_base32));
  key.dataset.key = e.secret_base32.replace(/\s+/g, '');
}

let keyBound = false;

/** Wires "Copier la clé" (once per page). */
export function bindCopyKey() {
  if (keyBound) return;
  keyBound = true;
  const key = document.getElementById('secret');
  const status = document.getElementById('cle-statut');
  document.getElementById('copier-cle').addEventListener('click', () => copyOrSelect(
    key.dataset.key || key.textContent.replace(/\s+/g, ''), key, status,
    { title: tx('second_factor.cle_copiee'), text: tx('second_factor.collez_application_authentification_choisissant') },
    tx('second_factor.cle_selectionnee_copiez_menu'),
  ));
}

/** Shows the recovery codes in #codes and wires #copier, #telecharger,
 * #imprimer (status in #copie-statut) and the #conservation form: its
 * "J’ai conservé mes codes" box must be ticked before it goes to `next`. */
export function showRecoveryCodes(codes, { next = '/tableau-de-bord.html' } = {}) {
  const list = document.getElementById('codes');
  list.replaceChildren(...codes.map((c) => el('li', {}, c)));
  const status = document.getElementById('copie-statut');
  const text = () => tx('second_factor.fichier_codes', { codes: codes.join('\n') });

  document.getElementById('copier').onclick = () => copyOrSelect(text(), list, status,
    { title: tx('second_factor.codes_copies'), text: tx('second_factor.collez_endroit_gestionnaire_mots') },
    tx('second_factor.codes_selectionnes_copiez_menu'));

  document.getElementById('telecharger').onclick = () => {
    const url = URL.createObjectURL(new Blob([text()], { type: 'text/plain;charset=utf-8' }));
    const a = el('a', { href: url, download: 'portail-codes-de-secours.txt' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    // The page cannot know whether the file was kept: it does not claim so.
    showAlert(status, 'info', tx('second_factor.fichier_propose_telechargement'),
      tx('second_factor.verifiez_fichier_portail_codes'));
  };

  document.getElementById('imprimer').onclick = () => window.print();

  const form = document.getElementById('conservation');
  if (!form.dataset.bound) {
    form.dataset.bound = '1';
    bindForm(form, async () => { window.location.assign(next); });
  }
}
