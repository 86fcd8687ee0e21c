-- Coverage: the rights of each insured person (not only those with an
-- account: a member's account points at its insured person), their
-- beneficiaries (ayants droit), médecin traitant, cartes Vitale and the
-- attestations issued.
CREATE TABLE coverage_rights (
    insured_id BIGINT NOT NULL,
    regime VARCHAR(100) NOT NULL,
    fund VARCHAR(100) NOT NULL,
    open_from DATE NOT NULL,
    open_to DATE NOT NULL,
    -- Complémentaire santé solidaire.
    css ENUM('none', 'free', 'participation') NOT NULL DEFAULT 'none',
    css_from DATE NULL,
    css_to DATE NULL,
    -- Exonération du ticket modérateur (affection de longue durée).
    ald_label VARCHAR(200) NULL,
    ald_from DATE NULL,
    ald_to DATE NULL,
    PRIMARY KEY (insured_id),
    CONSTRAINT fk_coverage_rights_insured FOREIGN KEY (insured_id) REFERENCES insured (id),
    CONSTRAINT ck_coverage_rights_dates CHECK (open_from <= open_to)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Ayants droit: children under 18, or a spouse without rights of their own.
CREATE TABLE coverage_beneficiaries (
    id BIGINT NOT NULL AUTO_INCREMENT,
    insured_id BIGINT NOT NULL,
    relation ENUM('child', 'spouse') NOT NULL,
    nir CHAR(15) NULL,
    -- A temporary number until the NIR is known.
    temp_number VARCHAR(20) NULL,
    last_name VARCHAR(100) NOT NULL,
    first_name VARCHAR(100) NOT NULL,
    birth_date DATE NOT NULL,
    sex TINYINT NOT NULL,
    rights_from DATE NOT NULL,
    rights_to DATE NOT NULL,
    css ENUM('none', 'free', 'participation') NOT NULL DEFAULT 'none',
    PRIMARY KEY (id),
    KEY ix_coverage_beneficiaries_insured (insured_id),
    CONSTRAINT fk_coverage_beneficiaries_insured FOREIGN KEY (insured_id) REFERENCES insured (id),
    CONSTRAINT ck_coverage_beneficiaries_id CHECK (nir IS NOT NULL OR temp_number IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Médecin traitant declarations, history kept: one 'current' per person at
-- most (beneficiary_id NULL: the insured person).
CREATE TABLE coverage_doctors (
    id BIGINT NOT NULL AUTO_INCREMENT,
    insured_id BIGINT NOT NULL,
    beneficiary_id BIGINT NULL,
    practitioner_id BIGINT NOT NULL,
    status ENUM('pending', 'current', 'ended', 'refused') NOT NULL,
    declared_on DATE NOT NULL,
    confirmed_on DATE NULL,
    ended_on DATE NULL,
    PRIMARY KEY (id),
    KEY ix_coverage_doctors_insured (insured_id, status),
    CONSTRAINT fk_coverage_doctors_insured FOREIGN KEY (insured_id) REFERENCES insured (id),
    CONSTRAINT fk_coverage_doctors_practitioner FOREIGN KEY (practitioner_id)
        REFERENCES practitioners (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Cartes Vitale, for every person 12 and over; history kept (a lost card
-- stays, its replacement is a new row).
CREATE TABLE coverage_vitale (
    id BIGINT NOT NULL AUTO_INCREMENT,
    insured_id BIGINT NOT NULL,
    beneficiary_id BIGINT NULL,
    serial VARCHAR(20) NOT NULL,
    status ENUM('active', 'lost', 'stolen', 'defective', 'ordered', 'in_production', 'sent')
        NOT NULL,
    issued_on DATE NULL,
    status_since DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    reported_at DATETIME NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_coverage_vitale_serial (serial),
    KEY ix_coverage_vitale_insured (insured_id),
    CONSTRAINT fk_coverage_vitale_insured FOREIGN KEY (insured_id) REFERENCES insured (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Attestations de droits issued: the code printed (and in the QR code) lets
-- anyone check one on the public page. Only a digest of the code is kept.
CREATE TABLE coverage_attestations (
    id BIGINT NOT NULL AUTO_INCREMENT,
    code_hash BINARY(32) NOT NULL,
    insured_id BIGINT NOT NULL,
    beneficiary_id BIGINT NULL,
    initials VARCHAR(8) NOT NULL,
    birth_year SMALLINT NOT NULL,
    valid_from DATE NOT NULL,
    valid_to DATE NOT NULL,
    issued_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    superseded_at DATETIME NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_coverage_attestations_code (code_hash),
    KEY ix_coverage_attestations_person (insured_id, beneficiary_id),
    CONSTRAINT fk_coverage_attestations_insured FOREIGN KEY (insured_id) REFERENCES insured (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
