-- The person cared for is a beneficiary of the core's table (sql/014, kept
-- by the coverage module), by id, NULL meaning the insured person: a claim
-- can no longer name anyone, and the filter matches an id, not a text. The
-- key (beneficiary_id, insured_id) makes the database refuse a line that
-- names another person's beneficiary. The free texts written so far are
-- matched by name against the person's beneficiaries ("Prénom Nom"); one
-- that matches none becomes NULL (the insured person) and keeps its text in
-- beneficiary_text (never shown; NULL once matched or when it was the
-- insured person's own name), so that nothing is lost when the coverage
-- module's migration 004, which fills the core's table, runs after this one
-- (modules migrate in config order).
ALTER TABLE reimb_payments
    ADD COLUMN IF NOT EXISTS beneficiary_id BIGINT NULL AFTER insured_id;
UPDATE reimb_payments p
JOIN beneficiaries b ON b.insured_id = p.insured_id
    AND CONCAT(b.first_name, ' ', b.last_name) = p.beneficiary
SET p.beneficiary_id = b.id;
ALTER TABLE reimb_payments
    DROP INDEX IF EXISTS reimb_payments_totals,
    CHANGE COLUMN IF EXISTS beneficiary beneficiary_text VARCHAR(100) NULL,
    ADD CONSTRAINT reimb_payments_beneficiary_fk FOREIGN KEY (beneficiary_id, insured_id)
        REFERENCES beneficiaries (id, insured_id),
    ADD INDEX reimb_payments_totals (insured_id, care_date, cancelled_by, kind, status,
                                     beneficiary_id, charged_cents, participation_cents,
                                     franchise_cents, reimbursed_cents);

-- A claim belongs to a member: the module checks that the beneficiary is
-- one of theirs (portail_beneficiary_get) before recording it.
ALTER TABLE reimb_claims
    ADD COLUMN IF NOT EXISTS beneficiary_id BIGINT NULL AFTER member_id;
UPDATE reimb_claims c
JOIN members m ON m.id = c.member_id
JOIN beneficiaries b ON b.insured_id = m.insured_id
    AND CONCAT(b.first_name, ' ', b.last_name) = c.beneficiary
SET c.beneficiary_id = b.id;
ALTER TABLE reimb_claims
    CHANGE COLUMN IF EXISTS beneficiary beneficiary_text VARCHAR(100) NULL,
    ADD CONSTRAINT reimb_claims_beneficiary_fk FOREIGN KEY (beneficiary_id)
        REFERENCES beneficiaries (id);
UPDATE reimb_payments p JOIN insured i ON i.id = p.insured_id
SET p.beneficiary_text = NULL
WHERE p.beneficiary_id IS NOT NULL OR p.beneficiary_text = CONCAT(i.first_name, ' ', i.last_name);
UPDATE reimb_claims c JOIN members m ON m.id = c.member_id JOIN insured i ON i.id = m.insured_id
SET c.beneficiary_text = NULL
WHERE c.beneficiary_id IS NOT NULL OR c.beneficiary_text = CONCAT(i.first_name, ' ', i.last_name);
