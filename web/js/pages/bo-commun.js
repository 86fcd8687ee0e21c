// What the back office's pages share (and no member page needs).

/** The check of a NIR typed by an agent (spaces allowed): its shape only,
 * the key is checked by the API. emptyOk: an optional filter. */
export function nirCheck(text, { emptyOk = false } = {}) {
  const s = String(text || '').replace(/\s+/g, '');
  if (!s && emptyOk) return null;
  return /^[0-9]{5}([0-9]{2}|2[abAB])[0-9]{8}$/.test(s)
    ? null : 'Saisissez les 15 caractères du numéro de sécurité sociale (13 chiffres et une clé de 2 chiffres).';
}
