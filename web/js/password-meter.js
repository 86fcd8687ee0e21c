// The password strength meter of the pages where a password is chosen: an
// estimate by zxcvbn-ts (its French and common dictionaries), shown as a bar
// and a French sentence in a polite live region. Advice only: the server's
// policy decides. The bundles (about 1 MB, copied to /zxcvbn/ by
// script/web-build) load on the first key typed, as classic scripts from our
// own origin (CSP script-src 'self').
import { el } from './ui.js';
import { tx } from './textes.js';

const BUNDLES = ['core', 'language-common', 'language-fr'];
const LEVELS = [tx('password_meter.tres_faible'), tx('password_meter.faible'), tx('password_meter.moyenne'), tx('password_meter.bonne'), tx('password_meter.tres_bonne')];
let factory;

function load(src) {
  return new Promise((resolve, reject) => {
    const s = el('script', { src });
    s.addEventListener('load', resolve);
    s.addEventListener('error', () => reject(new Error(`${src} not loaded`)));
    document.head.append(s);
  });
}

function estimator() {
  factory ??= (async () => {
    for (const b of BUNDLES) await load(`/zxcvbn/${b}.js`);
    const z = window.zxcvbnts;
    const common = z['language-common'];
    const fr = z['language-fr'];
    return new z.core.ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...fr.dictionary },
      graphs: common.adjacencyGraphs,
      translations: fr.translations,
    });
  })();
  return factory;
}

/** Puts the meter under the input (in its .fr-input-group). userInputs():
 * words of the person's own (names...) that make a password weaker. */
export function passwordMeter(input, userInputs = () => []) {
  const id = `${input.id}-robustesse`;
  const bar = el('div', { class: 'portail-meter__bar', 'aria-hidden': 'true' }, el('span'));
  const text = el('p', { class: 'fr-message portail-meter__text', id: `${id}-texte`, 'aria-live': 'polite' });
  const box = el('div', { class: 'portail-meter fr-messages-group', id, 'data-score': '' }, bar, text);
  (input.closest('.fr-input-group') || input.parentElement).append(box);

  let timer;
  let seq = 0;
  const show = async () => {
    const mine = ++seq;
    const pw = input.value;
    if (!pw) {
      box.dataset.score = '';
      text.textContent = '';
      return;
    }
    let result;
    try {
      result = (await estimator()).check(pw, userInputs());
    } catch {
      return; // no meter rather than a broken page
    }
    if (mine !== seq) return;
    const score = result.score;
    box.dataset.score = String(score);
    const warning = result.feedback?.warning;
    text.textContent = `Robustesse\u00a0: ${LEVELS[score]}.${warning && score < 3 ? ` ${warning}` : ''}`;
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(show, 250);
  });
}
