-- The IBAN the fund pays into, as the fund's systems hold it: registration
-- asks for its last 7 characters (with the postcode on file) to tell the
-- person from a stranger who knows the NIR and birth date (issue 14).
-- Compact and in upper case (portail_valid_iban); NULL: none on file, the
-- person registers with a provisional code sent by post.
ALTER TABLE insured
    ADD COLUMN iban VARCHAR(34) NULL AFTER email;

-- Facts about the database itself, one row each. `demo_database`: the
-- database holds invented persons (written by `portailctl seed`); only
-- then does `portailctl demo --yes-this-is-a-demo-database` make its
-- accounts, so that a production database never gets a demo supervisor.
CREATE TABLE core_settings (
    name VARCHAR(64) NOT NULL,
    value VARCHAR(255) NOT NULL,
    updated_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The print queue: letters a job wrote, to be printed and posted by the
-- fund (`portailctl letters list|show ID`). body is the letter's text as
-- printed; data its fields (JSON); pdf the rendered letter once the core
-- PDF service renders it (NULL until then). job_id makes a job that runs
-- twice write its letter once.
CREATE TABLE letters (
    id BIGINT NOT NULL AUTO_INCREMENT,
    job_id BIGINT NOT NULL,
    kind VARCHAR(100) NOT NULL,
    insured_id BIGINT NOT NULL,
    body TEXT NOT NULL,
    data TEXT NULL,
    pdf MEDIUMBLOB NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    printed_at DATETIME NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_letters_job (job_id),
    KEY ix_letters_insured (insured_id),
    CONSTRAINT fk_letters_insured FOREIGN KEY (insured_id) REFERENCES insured (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
