-- The totals of GET /api/v1/reimbursements (count and sums over the whole
-- filtered period, not just the page) read every matching line: through
-- reimb_payments_list each line costs a lookup of its full row (two pages
-- per line, 154 pages for the demo member's 76 lines). This index holds the
-- filter's columns and the summed amounts, so the totals are read from the
-- index alone (2 pages), whatever filter the member sets. The page itself
-- keeps reimb_payments_list, whose (care_date, id) order it needs.
ALTER TABLE reimb_payments
    ADD INDEX IF NOT EXISTS reimb_payments_totals (insured_id, care_date, cancelled_by, kind,
                                                   status, beneficiary, charged_cents,
                                                   participation_cents, franchise_cents,
                                                   reimbursed_cents);
