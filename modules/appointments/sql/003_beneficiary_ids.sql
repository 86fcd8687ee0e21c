-- The person an appointment is for is one of the member's beneficiaries
-- (the core's table, sql/014, kept by the coverage module) by id, NULL
-- meaning the member, instead of a name the member typed. The names typed
-- so far are matched against the member's beneficiaries ("Prénom Nom"); one
-- that matches none becomes NULL (the member) and keeps its text in
-- beneficiary_text (never shown; NULL once matched), so that nothing is lost
-- when the coverage module's migration 004, which fills the core's table,
-- runs after this one (modules migrate in config order).
ALTER TABLE appt_appointments
    ADD COLUMN IF NOT EXISTS beneficiary_id BIGINT NULL AFTER local_day;
UPDATE appt_appointments x
JOIN members m ON m.id = x.member_id
JOIN beneficiaries b ON b.insured_id = m.insured_id
    AND CONCAT(b.first_name, ' ', b.last_name) = x.beneficiary
SET x.beneficiary_id = b.id;
ALTER TABLE appt_appointments
    CHANGE COLUMN IF EXISTS beneficiary beneficiary_text VARCHAR(100) NULL,
    ADD CONSTRAINT appt_appointments_beneficiary_fk FOREIGN KEY (beneficiary_id)
        REFERENCES beneficiaries (id);
UPDATE appt_appointments SET beneficiary_text = NULL WHERE beneficiary_id IS NOT NULL;
