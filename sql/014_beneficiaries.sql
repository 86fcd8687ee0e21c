-- The beneficiaries (ayants droit) of an insured person as the core knows
-- them: the coverage module owns the declarations (coverage_beneficiaries:
-- NIR, rights, CSS) and writes this row, keyed by its declaration's id
-- (declaration_id), through portail_beneficiary_set in the same
-- transaction, so that the modules that name a beneficiary (reimbursements,
-- appointments) reference one by the core's id without calling coverage:
-- modules never call each other. Rows are never deleted (payment lines keep
-- pointing at them); an ended right is rights_to. The (id, insured_id) key
-- lets a module's foreign key check that a beneficiary belongs to the
-- line's insured person.
CREATE TABLE beneficiaries (
    id BIGINT NOT NULL AUTO_INCREMENT,
    insured_id BIGINT NOT NULL,
    -- The declaring module's own id of the declaration (coverage's).
    declaration_id BIGINT NULL,
    relation ENUM('child', 'spouse') NOT NULL,
    last_name VARCHAR(100) NOT NULL,
    first_name VARCHAR(100) NOT NULL,
    birth_date DATE NOT NULL,
    rights_from DATE NULL,
    rights_to DATE NULL,
    PRIMARY KEY (id),
    KEY ix_beneficiaries_insured (insured_id, birth_date),
    UNIQUE KEY uq_beneficiaries_id_insured (id, insured_id),
    UNIQUE KEY uq_beneficiaries_declaration (declaration_id),
    CONSTRAINT fk_beneficiaries_insured FOREIGN KEY (insured_id) REFERENCES insured (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
