-- Module reimbursements: the fund's payment lines (décomptes), one per act.
-- A line belongs to an insured person (the fund pays whether or not the
-- person has an online account); member routes reach it through
-- members.insured_id = the session's member, so another member's line is
-- never found. Amounts in integer cents; the arithmetic is the database's
-- own rule (ck_reimb_arith): reimbursed = base x rate / 100 (rounded down)
-- minus the deductions, never negative, zero for a rejected line.
CREATE TABLE IF NOT EXISTS reimb_payments (
    id BIGINT NOT NULL AUTO_INCREMENT,
    insured_id BIGINT NOT NULL,
    beneficiary VARCHAR(100) NOT NULL,
    care_date DATE NOT NULL,
    practitioner_name VARCHAR(100) NOT NULL,
    practitioner_specialty VARCHAR(100) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    act_code VARCHAR(16) NOT NULL,
    act_label VARCHAR(200) NOT NULL,
    charged_cents INT NOT NULL,
    base_cents INT NOT NULL,
    rate_pct TINYINT UNSIGNED NOT NULL,
    participation_cents INT NOT NULL DEFAULT 0,
    franchise_cents INT NOT NULL DEFAULT 0,
    reimbursed_cents INT NOT NULL,
    paid_to VARCHAR(16) NOT NULL DEFAULT 'member',
    status VARCHAR(16) NOT NULL,
    reject_reason VARCHAR(500) NULL,
    received_on DATE NOT NULL,
    processing_on DATE NULL,
    paid_on DATE NULL,
    expected_payment_on DATE NULL,
    -- A correction is a new line that cancels this one; both are kept.
    cancelled_by BIGINT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    KEY reimb_payments_list (insured_id, care_date, id),
    CONSTRAINT reimb_payments_insured_fk FOREIGN KEY (insured_id) REFERENCES insured (id)
        ON DELETE CASCADE,
    CONSTRAINT ck_reimb_kind CHECK (kind IN ('consultation', 'specialist', 'pharmacy', 'dentist',
                                             'lab', 'hospital', 'optical', 'other')),
    CONSTRAINT ck_reimb_status CHECK (status IN ('received', 'processing', 'paid', 'rejected')),
    CONSTRAINT ck_reimb_paid_to CHECK (paid_to IN ('member', 'practitioner')),
    CONSTRAINT ck_reimb_amounts CHECK (charged_cents >= 0 AND base_cents >= 0
                                       AND base_cents <= 100000000 AND rate_pct <= 100
                                       AND participation_cents >= 0 AND franchise_cents >= 0),
    CONSTRAINT ck_reimb_arith CHECK (
        (status = 'rejected' AND reimbursed_cents = 0 AND participation_cents = 0
         AND franchise_cents = 0)
        OR (status <> 'rejected' AND reimbursed_cents >= 0
            AND reimbursed_cents = (base_cents * rate_pct) DIV 100 - participation_cents
                                   - franchise_cents)),
    CONSTRAINT ck_reimb_reason CHECK ((status = 'rejected') = (reject_reason IS NOT NULL)),
    CONSTRAINT ck_reimb_paid CHECK ((status = 'paid') = (paid_on IS NOT NULL)),
    CONSTRAINT ck_reimb_expected CHECK (status IN ('paid', 'rejected')
                                        OR expected_payment_on IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
