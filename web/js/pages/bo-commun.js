// What the back office's pages share (and no member page needs).
import { tx } from '../textes.js';

/** The check of a NIR typed by an agent (spaces allowed): its shape only,
 * the key is checked by the API. emptyOk: an optional filter. */
export function nirCheck(text, { emptyOk = false } = {}) {
  const s = String(text || '').replace(/\s+/g, '');
  if (!s && emptyOk) return null;
  return /^[0-9]{5}([0-9]{2}|2[abAB])[0-9]{8}$/.test(s)
    ? null : tx('bo.commun.saisissez_15_caracteres_numero');
}
