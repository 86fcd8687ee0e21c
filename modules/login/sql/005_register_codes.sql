-- Module login: provisional registration codes sent by post to persons
-- without an IBAN on file (issue 14). One live code per person; only a
-- keyed BLAKE2b-256 of the normalised code is kept (key derived from
-- server.secret_key_file); the clear code is only in the letter.
CREATE TABLE register_codes (
    insured_id BIGINT NOT NULL,
    code_hash BINARY(32) NOT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    expires_at DATETIME NOT NULL,
    PRIMARY KEY (insured_id),
    CONSTRAINT fk_register_codes_insured FOREIGN KEY (insured_id) REFERENCES insured (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
