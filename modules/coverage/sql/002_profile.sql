-- "Mon profil": what the insured table does not hold (phone, BIC, account
-- holder), and the changes waiting for the member's confirmation link. An
-- e-mail or IBAN change is stored here as pending while the old value stays
-- in use; the confirmation (account unlocked "by verification") applies it.
CREATE TABLE coverage_profile (
    member_id BIGINT NOT NULL,
    phone VARCHAR(20) NULL,
    bic VARCHAR(11) NULL,
    holder VARCHAR(100) NULL,
    PRIMARY KEY (member_id),
    CONSTRAINT fk_coverage_profile_member FOREIGN KEY (member_id) REFERENCES members (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE coverage_profile_changes (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    kind ENUM('email', 'bank') NOT NULL,
    email VARCHAR(254) NULL,
    iban VARCHAR(34) NULL,
    bic VARCHAR(11) NULL,
    holder VARCHAR(100) NULL,
    status ENUM('pending', 'applied', 'refused', 'replaced') NOT NULL DEFAULT 'pending',
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    decided_at DATETIME NULL,
    PRIMARY KEY (id),
    KEY ix_coverage_profile_changes_member (member_id, status),
    CONSTRAINT fk_coverage_profile_changes_member FOREIGN KEY (member_id) REFERENCES members (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
