-- The member's médecin traitant as the core knows it: the coverage module
-- keeps the declarations (history, pending, refused) in its own table and
-- sets this row when one becomes current or ends (portail_member_doctor_set),
-- so that another module (appointments) can read it without calling
-- coverage: modules never call each other.
CREATE TABLE member_doctors (
    insured_id BIGINT NOT NULL,
    practitioner_id BIGINT NOT NULL,
    since DATE NOT NULL,
    PRIMARY KEY (insured_id),
    KEY ix_member_doctors_practitioner (practitioner_id),
    CONSTRAINT fk_member_doctors_insured FOREIGN KEY (insured_id) REFERENCES insured (id),
    CONSTRAINT fk_member_doctors_practitioner FOREIGN KEY (practitioner_id)
        REFERENCES practitioners (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
