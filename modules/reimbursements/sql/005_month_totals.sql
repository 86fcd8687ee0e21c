-- The totals of GET /api/v1/reimbursements for the default view (no
-- beneficiary, kind or status filter) summed per insured person and month
-- of care, over the lines not cancelled by a correction: the totals of a
-- period then read its whole months here (27 rows for the default 27
-- months) and only the lines of its partial first and last months from
-- reimb_payments, instead of every line of the period. Kept by the
-- triggers below in the transaction of every insert, correction
-- (cancelled_by set) or other change of a line, whoever makes it (the
-- module, the seed, an agent's correction), so that it never drifts from
-- the lines; a filtered view still sums the lines (reimb_payments_totals).
CREATE TABLE IF NOT EXISTS reimb_month_totals (
    insured_id BIGINT NOT NULL,
    month DATE NOT NULL,
    n INT NOT NULL DEFAULT 0,
    charged_cents BIGINT NOT NULL DEFAULT 0,
    reimbursed_cents BIGINT NOT NULL DEFAULT 0,
    participation_cents BIGINT NOT NULL DEFAULT 0,
    franchise_cents BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (insured_id, month),
    CONSTRAINT reimb_month_totals_insured_fk FOREIGN KEY (insured_id) REFERENCES insured (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO reimb_month_totals (insured_id, month, n, charged_cents, reimbursed_cents,
                                participation_cents, franchise_cents)
SELECT insured_id, care_date - INTERVAL (DAYOFMONTH(care_date) - 1) DAY, COUNT(*),
       SUM(charged_cents), SUM(reimbursed_cents), SUM(participation_cents), SUM(franchise_cents)
FROM reimb_payments WHERE cancelled_by IS NULL
GROUP BY insured_id, care_date - INTERVAL (DAYOFMONTH(care_date) - 1) DAY
ON DUPLICATE KEY UPDATE n = VALUES(n), charged_cents = VALUES(charged_cents),
    reimbursed_cents = VALUES(reimbursed_cents),
    participation_cents = VALUES(participation_cents),
    franchise_cents = VALUES(franchise_cents);

CREATE TRIGGER reimb_month_totals_ins AFTER INSERT ON reimb_payments FOR EACH ROW
INSERT INTO reimb_month_totals (insured_id, month, n, charged_cents, reimbursed_cents,
                                participation_cents, franchise_cents)
SELECT NEW.insured_id, NEW.care_date - INTERVAL (DAYOFMONTH(NEW.care_date) - 1) DAY, 1,
       NEW.charged_cents, NEW.reimbursed_cents, NEW.participation_cents, NEW.franchise_cents
FROM DUAL WHERE NEW.cancelled_by IS NULL
ON DUPLICATE KEY UPDATE n = n + 1, charged_cents = charged_cents + VALUES(charged_cents),
    reimbursed_cents = reimbursed_cents + VALUES(reimbursed_cents),
    participation_cents = participation_cents + VALUES(participation_cents),
    franchise_cents = franchise_cents + VALUES(franchise_cents);

-- A correction sets cancelled_by (the old line leaves the totals); any
-- other change moves the line's amounts from its old month to its new one.
CREATE TRIGGER reimb_month_totals_upd AFTER UPDATE ON reimb_payments FOR EACH ROW
INSERT INTO reimb_month_totals (insured_id, month, n, charged_cents, reimbursed_cents,
                                participation_cents, franchise_cents)
SELECT d.insured_id, d.month, SUM(d.n), SUM(d.charged), SUM(d.reimbursed), SUM(d.participation),
       SUM(d.franchise)
FROM (SELECT OLD.insured_id AS insured_id,
             OLD.care_date - INTERVAL (DAYOFMONTH(OLD.care_date) - 1) DAY AS month, -1 AS n,
             -OLD.charged_cents AS charged, -OLD.reimbursed_cents AS reimbursed,
             -OLD.participation_cents AS participation, -OLD.franchise_cents AS franchise
      FROM DUAL WHERE OLD.cancelled_by IS NULL
      UNION ALL
      SELECT NEW.insured_id, NEW.care_date - INTERVAL (DAYOFMONTH(NEW.care_date) - 1) DAY, 1,
             NEW.charged_cents, NEW.reimbursed_cents, NEW.participation_cents,
             NEW.franchise_cents
      FROM DUAL WHERE NEW.cancelled_by IS NULL) d
GROUP BY d.insured_id, d.month
ON DUPLICATE KEY UPDATE n = n + VALUES(n), charged_cents = charged_cents + VALUES(charged_cents),
    reimbursed_cents = reimbursed_cents + VALUES(reimbursed_cents),
    participation_cents = participation_cents + VALUES(participation_cents),
    franchise_cents = franchise_cents + VALUES(franchise_cents);

CREATE TRIGGER reimb_month_totals_del AFTER DELETE ON reimb_payments FOR EACH ROW
UPDATE reimb_month_totals
SET n = n - 1, charged_cents = charged_cents - OLD.charged_cents,
    reimbursed_cents = reimbursed_cents - OLD.reimbursed_cents,
    participation_cents = participation_cents - OLD.participation_cents,
    franchise_cents = franchise_cents - OLD.franchise_cents
WHERE OLD.cancelled_by IS NULL AND insured_id = OLD.insured_id
  AND month = OLD.care_date - INTERVAL (DAYOFMONTH(OLD.care_date) - 1) DAY;
