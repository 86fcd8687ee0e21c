// What the back office's pages share (and no member page needs).
import { el } from '../ui.js';
import { tx } from '../textes.js';

/** The check of a NIR typed by an agent (spaces allowed): its shape only,
 * the key is checked by the API. emptyOk: an optional filter. */
export function nirCheck(text, { emptyOk = false } = {}) {
  const s = String(text || '').replace(/\s+/g, '');
  if (!s && emptyOk) return null;
  return /^[0-9]{5}([0-9]{2}|2[abAB])[0-9]{8}$/.test(s)
    ? null : tx('bo.commun.saisissez_15_caracteres_numero');
}

/** The rows of a table that is read as cards on a phone
 * (.portail-table-cartes, portail.css): each cell carries its column's name
 * from the table's header (data-label), which heads the cell on a phone while
 * the header stays for screen readers. cells(item) gives a row's contents in
 * the header's order; the first column (a date) does not wrap. */
export function cardRows(table, items, cells) {
  const labels = [...table.tHead.rows[0].cells].map((th) => th.textContent);
  return items.map((item) => el('tr', {}, ...cells(item).map((content, i) =>
    el('td', { 'data-label': labels[i], class: i === 0 && 'portail-nowrap' }, content))));
}
