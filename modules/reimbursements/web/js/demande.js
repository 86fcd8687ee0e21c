// The online request (POST /api/v1/reimbursements/claims, multipart): the
// files are checked here first (type, size, count: the server judges again
// by content), sent with a progress bar; errors shown next to their field.
import { api } from '/js/api.js';
import { clearErrors, el, formatDate, requireMember, showFieldErrors, showFormError, showAlert, showPageError } from '/js/ui.js';
import { fillBeneficiaries } from './common.js';
import { tx } from '/js/textes.js';

const MAX_FILES = 5;
const MAX_BYTES = 10 * 1024 * 1024;
const TYPES = ['application/pdf', 'image/jpeg', 'image/png'];
const form = document.getElementById('formulaire');
const input = document.getElementById('documents');
const list = document.getElementById('fichiers');
const bar = document.getElementById('progression');
const status = document.getElementById('statut');
await requireMember();

function fileProblems() {
  const files = [...input.files];
  const errs = [];
  if (files.length === 0) errs.push(tx('reimbursements.demande.joignez_moins_justificatif'));
  if (files.length > MAX_FILES) errs.push(tx('reimbursements.demande.max_files_fichiers', { MAX_FILES }));
  list.replaceChildren(...files.map((f) => {
    let why = '';
    if (!TYPES.includes(f.type)) why = tx('reimbursements.demande.type_refuse_pdf_jpeg');
    else if (f.size === 0) why = tx('reimbursements.demande.fichier_vide');
    else if (f.size > MAX_BYTES) why = tx('reimbursements.demande.plus_de_10_mo');
    if (why) errs.push(`${f.name} : ${why}.`);
    return el('li', { class: why ? 'fr-error-text' : '' }, `${f.name} (${Math.ceil(f.size / 1024)} ko)${why ? ` — ${why}` : ''}`);
  }));
  return errs;
}

input.addEventListener('change', () => fileProblems());

function cents(text) {
  const m = /^\s*(\d{1,6})(?:[,.](\d{1,2}))?\s*$/.exec(text || '');
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || '0').padEnd(2, '0'));
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  clearErrors(form);
  const errors = [];
  if (!form.elements.kind.value) errors.push({ field: 'kind', message: tx('reimbursements.demande.choisissez_type_soin') });
  if (!form.elements.care_date.value) errors.push({ field: 'care_date', message: tx('reimbursements.demande.indiquez_date_soins') });
  const amount = cents(form.elements.amount.value);
  if (!amount) errors.push({ field: 'amount', message: tx('reimbursements.demande.indiquez_montant_paye_exemple') });
  if (!form.elements.beneficiary.value) errors.push({ field: 'beneficiary', message: tx('reimbursements.demande.choisissez_beneficiaire_soins') });
  const fileErrs = fileProblems();
  if (fileErrs.length) errors.push({ field: 'documents', message: fileErrs.join(' ') });
  if (errors.length) {
    showFieldErrors(form, errors);
    return;
  }
  const data = new FormData();
  data.set('kind', form.elements.kind.value);
  data.set('care_date', form.elements.care_date.value);
  data.set('amount_cents', String(amount));
  data.set('beneficiary', form.elements.beneficiary.value);
  data.set('comment', form.elements.comment.value);
  for (const f of input.files) data.append('documents', f, f.name);
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  bar.hidden = false;
  bar.value = 0;
  try {
    const claim = await api.postForm('/reimbursements/claims', data, (pct) => { bar.value = pct; });
    form.reset();
    list.replaceChildren();
    showAlert(status, 'success', tx('reimbursements.demande.demande_envoyee'),
      tx('reimbursements.demande.demande_id_enregistree_sera', { id: claim.id, expected_by: formatDate(claim.expected_by) }), { focus: true });
  } catch (err) {
    const mapped = (err.fieldErrors || []).map((f) => ({ field: ['kind', 'care_date', 'beneficiary', 'comment'].includes(f.field) ? f.field : (f.field === 'amount_cents' ? 'amount' : 'documents'), message: f.message }));
    if (mapped.length) showFieldErrors(form, mapped);
    else showFormError(form, err);
  } finally {
    button.disabled = false;
    bar.hidden = true;
  }
});

// The choices: the member first ("Moi"), then their beneficiaries.
try {
  await fillBeneficiaries(form.elements.beneficiary);
} catch (err) {
  showPageError(status, err);
}
