// Forms, errors and small page helpers shared by every page.
//
// One error renderer: field errors next to their field (fr-input-group--error,
// fr-error-text tied with aria-describedby) and one error summary at the top of
// the form that receives focus. A new error replaces the previous one: never a
// stack of alerts. No raw JSON is ever shown.

import { ApiError, api, session, signedOutReason } from './api.js';
import { tx, txn } from './textes.js';

// Every form of the portal is sent by its page (bindForm, or a submit
// listener of its own), never by the browser: most pages bind their forms
// after a request (the session, a mailed link's check), and a submit before
// that would leave the page: a POST to the static page (nginx's 405), or a
// GET with the fields in the address, kept in the browser's history (an
// IBAN). It is held here, first of the page's code to run.
document.addEventListener('submit', (ev) => ev.preventDefault());

export const PAGES = {
  login: '/connexion.html',
  totp: '/code-de-securite.html',
  enroll: '/double-authentification.html',
  locked: '/compte-bloque.html',
  dashboard: '/tableau-de-bord.html',
  agentLogin: '/backoffice/',
  agentTotp: '/backoffice/code.html',
  agentHome: '/backoffice/recherche.html',
};

/* ---- text ---------------------------------------------------------------- */

/** "45 secondes", "2 minutes", "1 heure et 5 minutes". */
export function formatDuration(seconds) {
  const s = Math.max(1, Math.ceil(Number(seconds) || 0));
  if (s < 60) return txn('ui.duree.secondes', s);
  const m = Math.ceil(s / 60);
  if (m < 60) return txn('ui.duree.minutes', m);
  const h = Math.floor(m / 60);
  const rest = m % 60;
  return rest ? tx('ui.duree.heures_et_minutes', { heures: txn('ui.duree.heures', h), minutes: txn('ui.duree.minutes', rest) }) : txn('ui.duree.heures', h);
}

const dateTimeFmt = new Intl.DateTimeFormat('fr-FR', {
  dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris',
});
const dateFmt = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'UTC' });

// An ISO 8601 time (UTC when it names no zone) in a format, Paris time.
function formatTime(iso, fmt) {
  if (!iso) return '—';
  const d = new Date(/Z|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso.replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? iso : fmt.format(d);
}

/** An ISO 8601 UTC time in French, Paris time. */
export function formatDateTime(iso) {
  return formatTime(iso, dateTimeFmt);
}

const dateTimeSecondsFmt = new Intl.DateTimeFormat('fr-FR', {
  dateStyle: 'short', timeStyle: 'medium', timeZone: 'Europe/Paris',
});

/** As formatDateTime, to the second and short ("12/03/2026 14:05:09"):
 * the back office's events, where the order of seconds matters. */
export function formatDateTimeSeconds(iso) {
  return formatTime(iso, dateTimeSecondsFmt);
}

/** A YYYY-MM-DD date in French. */
export function formatDate(ymd) {
  if (!ymd) return '—';
  const d = new Date(`${ymd}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? ymd : dateFmt.format(d);
}

/** "2 84 05 75 056 123 87" from a 15-character NIR. */
export function formatNir(nir) {
  const s = String(nir || '').replace(/\s+/g, '');
  if (s.length !== 15) return s;
  return [s[0], s.slice(1, 3), s.slice(3, 5), s.slice(5, 7), s.slice(7, 10), s.slice(10, 13), s.slice(13)].join(' ');
}

/** Shortens a user agent to "Chrome sur Linux". */
export function describeDevice(ua) {
  if (!ua) return tx('ui.appareil_inconnu');
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox'
    : /(Chrome|Chromium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : tx('ui.navigateur');
  const os = /Android/.test(ua) ? 'Android' : /(iPhone|iPad)/.test(ua) ? 'iOS'
    : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : null;
  return os ? tx('ui.navigateur_sur_systeme', { browser, os }) : browser;
}

const regionNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['fr'], { type: 'region' }) : null;

/** "France" from "FR" (the GeoIP country of a sign-in); the code itself when
 * the browser has no name for it, null without a code. */
export function countryName(code) {
  if (!code || !/^[A-Z]{2}$/.test(code)) return null;
  try {
    return regionNames?.of(code) || code;
  } catch {
    return code;
  }
}

/** A link given by the API when it stays on this site ("/..."), else null:
 * never another site's address ("//host", "https:", "javascript:"). */
export function localHref(link) {
  return typeof link === 'string' && link.startsWith('/') && !link.startsWith('//') ? link : null;
}

/** Element builder: el('p', {class: 'fr-text'}, 'texte', child...). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/* ---- messages -------------------------------------------------------------- */

/** The French message for an API error. */
export function messageFor(err, messages = {}) {
  if (!(err instanceof ApiError)) {
    return { title: tx('ui.erreur_inattendue_survenue'), text: tx('ui.reessayez_quelques_instants') };
  }
  const p = err.problem || {};
  const custom = messages[err.status];
  switch (err.status) {
    case 0:
      return { title: tx('commun.service_injoignable'), text: p.detail };
    case 401:
      return { title: custom?.title || tx('commun.identification_refusee'), text: custom?.text || p.detail || tx('ui.identifiants_incorrects') };
    case 403:
      return { title: custom?.title || tx('ui.acces_refuse'), text: custom?.text || p.detail || tx('ui.avez_acces_service') };
    case 404:
      return { title: custom?.title || tx('ui.introuvable'), text: custom?.text || p.detail || tx('ui.element_demande_introuvable') };
    case 409:
      return { title: custom?.title || tx('commun.action_impossible'), text: custom?.text || p.detail || tx('ui.action_possible_etat_actuel') };
    case 410:
      return { title: custom?.title || tx('commun.lien_expire_deja_utilise'), text: custom?.text || p.detail || tx('ui.lien_valable_demandez_nouveau') };
    case 422:
      return { title: tx('ui.formulaire_contient_erreurs'), text: p.detail || tx('ui.corrigez_champs_signales_puis') };
    case 423:
      return { title: tx('commun.compte_bloque'), text: p.reason_text || p.detail || tx('ui.compte_bloque_phrase') };
    case 429:
      return {
        title: tx('ui.trop_tentatives'),
        text: err.retryAfter
          ? tx('ui.patientez_attente', { retryAfter: formatDuration(err.retryAfter) })
          : tx('ui.patientez'),
      };
    case 503:
      return {
        title: tx('ui.service_momentanement_indisponible'),
        text: err.retryAfter
          ? tx('ui.service_tres_sollicite_attente', { retryAfter: formatDuration(err.retryAfter) })
          : tx('ui.service_tres_sollicite'),
      };
    default:
      return { title: custom?.title || tx('ui.erreur_survenue'), text: custom?.text || p.detail || tx('ui.reessayez_quelques_instants') };
  }
}

/** Shows one message (success, info, warning, error) in a container,
 * replacing what was there. focus: move the focus to it. */
export function showAlert(container, kind, title, text, { focus = false, extra = null } = {}) {
  container.replaceChildren();
  const box = el('div', { class: `fr-alert fr-alert--${kind} fr-mb-3w`, tabindex: focus ? '-1' : null },
    el('h2', { class: 'fr-alert__title' }, title),
    text ? el('p', {}, text) : null,
    extra);
  container.append(box);
  container.hidden = false;
  if (focus) box.focus();
  return box;
}

/** A page-level error (no form): the problem's French message, focused. */
export function showPageError(container, err, messages) {
  const m = messageFor(err, messages);
  const ref = err?.problem?.request_id;
  return showAlert(container, 'error', m.title, m.text, {
    focus: true,
    extra: ref ? el('p', { class: 'fr-text--xs fr-mb-0' }, tx('ui.reference', { ref })) : null,
  });
}

/* ---- forms ----------------------------------------------------------------- */

function groupOf(input) {
  return input.closest('.fr-input-group, .fr-select-group, .fr-fieldset');
}

function clearFieldError(input) {
  const group = groupOf(input);
  const errId = `${input.id}-erreur`;
  document.getElementById(errId)?.remove();
  const ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter((x) => x && x !== errId);
  if (ids.length) input.setAttribute('aria-describedby', ids.join(' '));
  else input.removeAttribute('aria-describedby');
  input.removeAttribute('aria-invalid');
  input.classList.remove('fr-input--error', 'fr-select--error');
  group?.classList.remove('fr-input-group--error', 'fr-select-group--error');
}

function setFieldError(input, message) {
  clearFieldError(input);
  const group = groupOf(input);
  const errId = `${input.id}-erreur`;
  const p = el('p', { id: errId, class: 'fr-error-text' }, message);
  (group || input.parentElement).append(p);
  const ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  input.setAttribute('aria-describedby', [...ids, errId].join(' '));
  input.setAttribute('aria-invalid', 'true');
  if (input.tagName === 'SELECT') {
    input.classList.add('fr-select--error');
    group?.classList.add('fr-select-group--error');
  } else {
    input.classList.add('fr-input--error');
    group?.classList.add('fr-input-group--error');
  }
}

function summaryOf(form) {
  let s = form.querySelector(':scope > .portail-error-summary');
  if (!s) {
    s = el('div', { class: 'portail-error-summary', hidden: true });
    form.prepend(s);
  }
  return s;
}

/** Removes every error of a form. */
export function clearErrors(form) {
  for (const fs of form.querySelectorAll('fieldset[data-date-field]')) clearDateError(fs);
  for (const input of form.querySelectorAll('[aria-invalid="true"]')) clearFieldError(input);
  const s = form.querySelector(':scope > .portail-error-summary');
  if (s) {
    s.replaceChildren();
    s.hidden = true;
  }
}

function labelText(input) {
  const label = input.labels && input.labels[0];
  if (!label) return input.name;
  const clone = label.cloneNode(true);
  clone.querySelectorAll('.fr-hint-text').forEach((h) => h.remove());
  return clone.textContent.replace(/\s+/g, ' ').trim();
}

/** Field errors [{field, message}] next to their fields, plus the summary. */
export function showFieldErrors(form, errors, title = tx('ui.formulaire_contient_erreurs')) {
  clearErrors(form);
  const items = [];
  for (const { field, message, part } of errors) {
    const input = field ? form.querySelector(`[name="${CSS.escape(field)}"]`) : null;
    const date = !input && field ? dateFieldset(form, field) : null;
    if (input) {
      setFieldError(input, message);
      items.push(el('li', {}, el('a', { href: `#${input.id}` }, `${labelText(input)} : ${message}`)));
    } else if (date) {
      const target = setDateError(date, message, part);
      items.push(el('li', {}, el('a', { href: `#${target.id}` }, `${legendText(date)} : ${message}`)));
    } else {
      items.push(el('li', {}, message));
    }
  }
  const summary = summaryOf(form);
  const n = errors.length;
  const box = el('div', { class: 'fr-alert fr-alert--error fr-mb-3w', tabindex: '-1' },
    el('h2', { class: 'fr-alert__title' }, n > 1 ? `${title} (${n})` : title),
    el('ul', {}, items));
  summary.replaceChildren(box);
  summary.hidden = false;
  box.focus();
  // A link of the summary moves the focus into its field.
  box.addEventListener('click', (ev) => {
    const a = ev.target.closest('a[href^="#"]');
    if (!a) return;
    const target = document.getElementById(a.getAttribute('href').slice(1));
    if (target) {
      ev.preventDefault();
      target.focus();
    }
  });
}

/** The error of a failed call, rendered at the top of the form (focused), or
 * next to the fields for a 422. A 423 goes to the lock page (onLocked: its
 * address, or a function given the error). */
export function showFormError(form, err, { messages = {}, onLocked = PAGES.locked } = {}) {
  if (err instanceof ApiError && err.status === 423 && onLocked) {
    if (typeof onLocked === 'function') onLocked(err);
    else window.location.assign(onLocked);
    return;
  }
  if (err instanceof ApiError && err.status === 422 && err.fieldErrors.length) {
    showFieldErrors(form, err.fieldErrors);
    return;
  }
  clearErrors(form);
  const m = messageFor(err, messages);
  const ref = err instanceof ApiError ? err.problem.request_id : null;
  const summary = summaryOf(form);
  const box = showAlert(summary, 'error', m.title, m.text, {
    focus: true,
    extra: ref && err.status >= 500 ? el('p', { class: 'fr-text--xs fr-mb-0' }, tx('ui.reference', { ref })) : null,
  });
  return box;
}

/** call() again after a 503 or a 429 with a short Retry-After (every
 * password hashing slot taken, nginx's bound on the sign-ins in flight, or
 * its pace of sign-ins beyond the burst: 1 s), at most `attempts` times,
 * saying so in `status` (an aria-live region); then the error. A longer
 * Retry-After (the service down, a throttle of failures) is the person's to
 * decide: the error at once. */
export async function retryWhenBusy(call, status, { attempts = 3, maxWait = 2 } = {}) {
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (err) {
      const wait = err instanceof ApiError && (err.status === 503 || err.status === 429) ? err.retryAfter : null;
      if (i >= attempts || !wait || wait > maxWait) throw err;
      if (status) {
        status.replaceChildren(el('div', { class: 'fr-alert fr-alert--info fr-alert--sm fr-mb-3w portail-retry' },
          el('p', {}, tx('ui.service_tres_sollicite_nouvelle_tentative', { wait, essai: i + 1, attempts }))));
        status.hidden = false;
      }
      await new Promise((res) => { setTimeout(res, wait * 1000); });
    } finally {
      if (status) status.querySelector('.portail-retry')?.remove();
    }
  }
}

/** A number of the config the page was given by nginx: the element
 * data-reglage="MODULE.NAME" holds partials/reglage.html's include of what
 * portaild wrote at start (a setting with on_pages, core/brand.c), such as
 * the wrong passwords allowed before a lock. "plusieurs" when unknown. */
export function pageSetting(name) {
  return document.querySelector(`[data-reglage="${name}"]`)?.textContent.trim() || 'plusieurs';
}

/** bindForm's messages for a form that re-checks the member's password
 * (password, phone, recovery codes): its 401, with the lock it leads to
 * after the config's number of errors ("erreur" in the singular below 2,
 * as core/brand.c's plural mark for the pages). current: "mot de passe
 * actuel". */
export function recheckMessages(current = false) {
  const errors = pageSetting('login.max_password_change_failures');
  const n = Number(errors) || 2; /* "plusieurs" when the page does not say */
  return {
    401: current
      ? { title: tx('ui.recheck.mot_passe_actuel.titre'), text: txn('ui.recheck.mot_passe_actuel.texte', n, { n: errors }) }
      : { title: tx('ui.recheck.mot_passe.titre'), text: txn('ui.recheck.mot_passe.texte', n, { n: errors }) },
  };
}

/** The tab's title becomes parts, then the fund's name: the last part of
 * the title nginx served (partials/titre.html, brand.name). */
export function setTitle(...parts) {
  const t = document.title;
  const i = t.lastIndexOf(' — ');
  document.title = [...parts, i >= 0 ? t.slice(i + 3) : t].join(' — ');
}

/** The page's H1 and the tab's title become heading. */
function setHeading(heading) {
  const h1 = document.querySelector('main h1');
  if (!h1 || !heading) return;
  h1.textContent = heading;
  const rest = document.title.indexOf(' — ');
  document.title = rest >= 0 ? `${heading}${document.title.slice(rest)}` : heading;
}

/** The end of a page's task (done, or impossible): the H1 and the tab's
 * title say it (heading), the form and what goes with it (hide) are gone,
 * and one message in status gives the next step, focused. */
export function showOutcome(status, { heading, kind, title, text, extra = null, hide = [] }) {
  for (const e of hide) if (e) e.hidden = true;
  setHeading(heading);
  return showAlert(status, kind, title, text, { focus: true, extra });
}

/* ---- locks ------------------------------------------------------------------ */

const LOCK_ACTIONS = {
  reset_password: () => el('a', { class: 'fr-btn fr-btn--secondary fr-mt-1w', href: '/mot-de-passe/oublie.html' }, tx('ui.reinitialiser_mot_passe')),
  // The fund's number comes with the step (brand.phone); none, no button.
  call_fund: (step) => (step.tel ? el('a', { class: 'fr-btn fr-btn--secondary fr-mt-1w', href: `tel:${step.tel}` }, tx('ui.appeler_numero', { phone: step.phone })) : null),
  confirm_update: () => el('p', { class: 'fr-mt-1w' }, tx('ui.ouvrez_lien_confirmer_mise')),
  wait_agent: () => null,
};

/** A lock's reason (an alert in reasonBox) and its steps with their actions
 * (a list in stepsBox), as the server words them: GET unlock/status, or the
 * problem of a 423 ({reason_text, since?, steps: [{kind, text}]}). */
export function showLock(reasonBox, stepsBox, lock, { focus = false } = {}) {
  showAlert(reasonBox, 'warning', tx('ui.pourquoi_blocage'), lock.reason_text || tx('ui.compte_bloque_securite'), {
    focus,
    extra: lock.since ? el('p', { class: 'fr-text--sm fr-mb-0' }, tx('ui.bloque_depuis', { since: formatDateTime(lock.since) })) : null,
  });
  const list = (lock.steps || []).map((step) => el('li', { class: 'fr-mb-2w' }, el('p', { class: 'fr-mb-0' }, step.text), LOCK_ACTIONS[step.kind]?.(step)));
  if (list.length) stepsBox.replaceChildren(el('ol', {}, list));
}

/** onLocked of the second-factor forms: the wrong code that locks the
 * account also ends the session, so /compte-bloque.html could only give its
 * general text. The page becomes the lock page instead, with the reason and
 * the way out of the 423 (the person has just proven the password). */
export function showLockHere(err) {
  const p = err instanceof ApiError ? err.problem : {};
  const h1 = document.querySelector('main h1');
  if (!p.reason || !h1) {
    window.location.assign(PAGES.locked);
    return;
  }
  const column = h1.parentElement;
  for (const c of column.children) if (c !== h1) c.hidden = true;
  const reasonBox = el('div', { id: 'raison' });
  const stepsBox = el('div', { id: 'etapes' });
  column.append(reasonBox, el('section', { 'aria-labelledby': 'etapes-titre' },
    el('h2', { id: 'etapes-titre', class: 'fr-h4' }, tx('ui.comment_debloquer')), stepsBox));
  setHeading(tx('ui.compte_bloque_titre'));
  showLock(reasonBox, stepsBox, p, { focus: true });
}

/** A mailed link checked as the page opens, without spending it (POST
 * path {token}: 200 valid, 410 expired, used or unknown), through
 * retryWhenBusy (status: its aria-live region). False only for a 410:
 * when the check cannot answer, the form stays and sending it will say. */
export async function linkStillValid(path, token, status) {
  try {
    await retryWhenBusy(() => api.post(path, { token }), status);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 410) return false;
    if (!(err instanceof ApiError)) console.error(err);
    return true;
  }
}

/** Client-side checks before sending: required fields, and per-field
 * checks ({name: (value, form) => message | null}). Returns true when
 * the form may be sent. */
export function validate(form, checks = {}) {
  const errors = [];
  // In the order of the page: a three-field date where its fieldset is.
  for (const input of form.querySelectorAll('input, select, textarea, fieldset[data-date-field]')) {
    if (input.tagName === 'FIELDSET') {
      if (input.disabled) continue;
      const field = input.dataset.dateField;
      const r = readDateFields(input);
      if (r.message) {
        errors.push({ field, message: r.message, part: r.part });
        continue;
      }
      const check = checks[field];
      const msg = r.iso && check ? check(r.iso, form) : null;
      if (msg) errors.push({ field, message: msg });
      continue;
    }
    if (!input.name || input.type === 'hidden' || input.disabled) continue;
    if (input.closest('fieldset[data-date-field]')) continue;
    const value = input.type === 'checkbox' ? input.checked : input.value.trim();
    if (input.hasAttribute('required') && !value) {
      errors.push({ field: input.name, message: input.dataset.requiredMessage || tx('ui.champ_obligatoire') });
      continue;
    }
    const check = checks[input.name];
    const msg = check ? check(input.value, form) : null;
    if (msg) errors.push({ field: input.name, message: msg });
  }
  if (errors.length) {
    showFieldErrors(form, errors);
    return false;
  }
  return true;
}

/** Wires a form: validation, then handler(values, form) with the submit
 * button disabled; errors through showFormError. */
export function bindForm(form, handler, { checks = {}, messages = {}, onLocked } = {}) {
  form.setAttribute('novalidate', '');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy === '1') return;
    clearErrors(form);
    if (!validate(form, checks)) return;
    const values = {};
    for (const [k, v] of new FormData(form).entries()) values[k] = typeof v === 'string' ? v : '';
    // A date in three fields is one value, YYYY-MM-DD (or null when empty).
    for (const fs of form.querySelectorAll('fieldset[data-date-field]')) {
      const name = fs.dataset.dateField;
      for (const part of DATE_PARTS) delete values[`${name}_${part.key}`];
      values[name] = readDateFields(fs).iso;
    }
    const buttons = form.querySelectorAll('button[type="submit"], button:not([type])');
    form.dataset.busy = '1';
    form.setAttribute('aria-busy', 'true');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await handler(values, form);
    } catch (err) {
      if (!(err instanceof ApiError)) console.error(err);
      showFormError(form, err, { messages, onLocked });
    } finally {
      delete form.dataset.busy;
      form.removeAttribute('aria-busy');
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
}

/** "17/05/1984" (or "1984-05-17") → "1984-05-17"; null when not a real date. */
export function parseFrenchDate(text) {
  const t = String(text || '').trim();
  let m = /^(\d{1,2})[/.\s-](\d{1,2})[/.\s-](\d{4})$/.exec(t);
  let y; let mo; let d;
  if (m) [, d, mo, y] = m;
  else if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t))) [, y, mo, d] = m;
  else return null;
  const iso = `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso) return null;
  return iso;
}

/* ---- dates in three fields (DSFR "date" pattern) ------------------------- */
//
// A date is one fieldset with a legend and three inputs, jour, mois, année:
//
//   <fieldset class="fr-fieldset" id="birth_date" data-date-field="birth_date"
//       data-required-message="Saisissez votre date de naissance."
//       role="group" aria-labelledby="birth_date-legend birth_date-messages">
//     <legend class="fr-fieldset__legend fr-fieldset__legend--regular" id="birth_date-legend">Date de naissance
//       <span class="fr-hint-text">Par exemple : 17 5 1984</span></legend>
//     <div class="fr-fieldset__element fr-fieldset__element--inline fr-fieldset__element--number">
//       <div class="fr-input-group">
//         <label class="fr-label" for="birth_date-day">Jour <span class="fr-hint-text">Entre 1 et 31</span></label>
//         <input class="fr-input" type="text" id="birth_date-day" name="birth_date_day"
//           inputmode="numeric" autocomplete="bday-day" maxlength="2" required>
//       </div></div>
//     ... the same for -month (name birth_date_month, bday-month, "Entre 1 et 12")
//     ... and -year in fr-fieldset__element--year (birth_date_year, bday-year, maxlength 4)
//     <div class="fr-messages-group" id="birth_date-messages" aria-live="polite"></div>
//   </fieldset>
//
// bindForm() reads it as one value (values.birth_date = "YYYY-MM-DD"),
// validate() checks it (checks.birth_date gets the YYYY-MM-DD), and an error
// for the field "birth_date" (a check, or the API's 422) puts the fieldset in
// the DSFR error state (fr-fieldset--error, the message in its messages
// group, aria-invalid on the wrong inputs), its summary link on that input.

const DATE_PARTS = [
  { key: 'day', empty: tx('ui.saisissez_jour'), bad: tx('ui.jour_entre_1_et_31'), re: /^\d{1,2}$/, min: 1, max: 31 },
  { key: 'month', empty: tx('ui.saisissez_mois'), bad: tx('ui.mois_entre_1_et_12'), re: /^\d{1,2}$/, min: 1, max: 12 },
  { key: 'year', empty: tx('ui.saisissez_annee'), bad: tx('ui.annee_comporte_4_chiffres'), re: /^\d{4}$/, min: 1000, max: 9999 },
];

/** A date from its three parts as typed ("7", "05", "1984"): {iso} for a
 * real date ("1984-05-07"), {iso: null} when all three are empty, else
 * {message, part}: the DSFR message and the part ("day", "month", "year")
 * to put right. */
export function dateFromParts(day, month, year, { requiredMessage = tx('ui.saisissez_date') } = {}) {
  const raw = { day, month, year };
  const v = {};
  for (const p of DATE_PARTS) v[p.key] = String(raw[p.key] ?? '').trim();
  if (!v.day && !v.month && !v.year) return { iso: null, message: requiredMessage, part: 'day', empty: true };
  for (const p of DATE_PARTS) {
    if (!v[p.key]) return { message: p.empty, part: p.key };
    const n = Number(v[p.key]);
    if (!p.re.test(v[p.key]) || n < p.min || n > p.max) return { message: p.bad, part: p.key };
  }
  const iso = `${v.year}-${v.month.padStart(2, '0')}-${v.day.padStart(2, '0')}`;
  const d = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso) {
    return { message: tx('ui.date_existe_verifiez_jour'), part: 'day' };
  }
  return { iso };
}

/** The fieldset of the three-field date NAME in a form, or null. */
export function dateFieldset(form, name) {
  return form.querySelector(`fieldset[data-date-field="${CSS.escape(name)}"]`);
}

function datePartInput(fs, key) {
  return fs.querySelector(`[name="${CSS.escape(`${fs.dataset.dateField}_${key}`)}"]`);
}

/** Reads a three-field date fieldset: {iso} ("YYYY-MM-DD", or null when
 * empty and not required) or {message, part}. */
export function readDateFields(fs) {
  const [d, m, y] = DATE_PARTS.map((p) => datePartInput(fs, p.key)?.value ?? '');
  const required = [...fs.querySelectorAll('input')].some((i) => i.required);
  const r = dateFromParts(d, m, y, { requiredMessage: fs.dataset.requiredMessage });
  if (r.empty) return required ? { message: r.message, part: r.part } : { iso: null };
  return r;
}

/** Puts a date fieldset in the DSFR error state; returns the input the
 * summary link focuses (the part to put right, else the day). */
function setDateError(fs, message, part) {
  clearDateError(fs);
  fs.classList.add('fr-fieldset--error');
  let messages = document.getElementById(`${fs.id}-messages`);
  if (!messages) {
    messages = el('div', { class: 'fr-messages-group', id: `${fs.id}-messages`, 'aria-live': 'polite' });
    fs.append(messages);
  }
  messages.replaceChildren(el('p', { class: 'fr-message fr-message--error', id: `${fs.id}-erreur` }, message));
  const inputs = DATE_PARTS.map((p) => datePartInput(fs, p.key)).filter(Boolean);
  const wrong = part ? inputs.filter((i) => i.name.endsWith(`_${part}`)) : inputs;
  for (const i of (wrong.length ? wrong : inputs)) {
    i.setAttribute('aria-invalid', 'true');
    i.classList.add('fr-input--error');
  }
  return (wrong.length ? wrong : inputs)[0] || fs;
}

function clearDateError(fs) {
  fs.classList.remove('fr-fieldset--error');
  document.getElementById(`${fs.id}-erreur`)?.remove();
  for (const i of fs.querySelectorAll('input')) {
    i.removeAttribute('aria-invalid');
    i.classList.remove('fr-input--error');
  }
}

function legendText(fs) {
  const legend = fs.querySelector('legend');
  if (!legend) return fs.dataset.dateField;
  const clone = legend.cloneNode(true);
  clone.querySelectorAll('.fr-hint-text').forEach((h) => h.remove());
  return clone.textContent.replace(/\s+/g, ' ').trim();
}

/** The check of a birth date (YYYY-MM-DD, from the three fields): in the
 * past, after 1890. */
export function birthDateCheck(iso) {
  if (iso > new Date().toISOString().slice(0, 10)) return tx('ui.saisissez_date_naissance_passee');
  if (iso < '1890-01-01') return tx('ui.saisissez_date_naissance_posterieure');
  return null;
}

/** Checks of a new password and its confirmation field (NAME_confirmation):
 * the length rule (12 to 128 characters, counted as the server does, in
 * Unicode characters) and the match. The other rules are the server's. */
export function passwordChecks(name = 'password') {
  return {
    [name]: (s) => {
      const n = [...s].length;
      if (n < 12) return txn('ui.mot_de_passe_trop_court', n);
      if (n > 128) return tx('ui.mot_passe_doit_comporter');
      return null;
    },
    [`${name}_confirmation`]: (s, form) => (s === form.elements[name].value
      ? null : tx('ui.deux_mots_passe_identiques')),
  };
}

/* ---- sessions -------------------------------------------------------------- */

// The sign-in page's ?motif= for a session ended elsewhere (docs/api.md).
const SIGNED_OUT_MOTIFS = { other_device: 'autre-appareil', agent: 'caisse' };
const SIGNED_OUT_TEXTS = {
  'autre-appareil': {
    title: tx('commun.session_terminee'),
    text: tx('ui.avez_ete_deconnectee_cet'),
  },
  caisse: {
    title: tx('commun.session_terminee'),
    text: tx('ui.caisse_mis_fin_session'),
  },
};

/** The sign-in page, with the reason when this page's session was ended
 * from elsewhere (so that it can say why). */
export function signInUrl() {
  const motif = SIGNED_OUT_MOTIFS[signedOutReason()];
  return motif ? `${PAGES.login}?motif=${motif}` : PAGES.login;
}

/** On the sign-in page: says why the member was signed out, when the page
 * that sent them here knew (?motif=). Only a fixed text of this file is
 * ever shown, whatever the address says. */
export function showSignedOutReason(container) {
  const m = SIGNED_OUT_TEXTS[queryParam('motif')];
  if (m) showAlert(container, 'info', m.title, m.text);
}

/** For pages that need a signed-in member (level "member"): goes to the
 * sign-in or the security-code page otherwise. Returns the session. */
export async function requireMember() {
  const s = await session();
  if (!s || s.kind !== 'member') {
    window.location.replace(signInUrl());
    return new Promise(() => {});
  }
  if (s.level === 'partial') {
    window.location.replace(PAGES.totp);
    return new Promise(() => {});
  }
  return s;
}

/** For pages of a partial member session (second factor pending). */
export async function requirePartialMember() {
  const s = await session();
  if (!s || s.kind !== 'member') {
    window.location.replace(PAGES.login);
    return new Promise(() => {});
  }
  return s;
}

/** For back-office pages: a full agent session. */
export async function requireAgent() {
  const s = await session();
  if (!s || s.kind !== 'agent' || s.level !== 'agent') {
    window.location.replace(s && s.kind === 'agent' ? PAGES.agentTotp : PAGES.agentLogin);
    return new Promise(() => {});
  }
  return s;
}

/** The query-string parameter name of the current URL. */
export function queryParam(name) {
  return new URLSearchParams(window.location.search).get(name);
}

export { api };
