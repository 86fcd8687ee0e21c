-- Module login: second factor (TOTP) for members and agents, recovery
-- codes, the countries a member signed in from, agents' own failure
-- counters and lock.
--
-- TOTP secrets are stored sealed (crypto_secretbox: 24-byte nonce, 16-byte
-- MAC, 20-byte secret) under the key of server.secret_key_file, which is
-- never in the database. The last accepted step makes each code usable once.

ALTER TABLE members
    ADD COLUMN totp_secret VARBINARY(128) NULL AFTER password_hash,
    ADD COLUMN totp_enabled_at DATETIME NULL AFTER totp_secret,
    -- floor(unix time / 30) of the last code accepted.
    ADD COLUMN totp_last_step BIGINT NULL AFTER totp_enabled_at,
    -- Secret shown by GET /totp/enroll, active once a code from it is given.
    ADD COLUMN totp_pending VARBINARY(128) NULL AFTER totp_last_step,
    ADD COLUMN totp_pending_at DATETIME NULL AFTER totp_pending;

ALTER TABLE agents
    ADD COLUMN totp_secret VARBINARY(128) NULL AFTER password_hash,
    ADD COLUMN totp_enabled_at DATETIME NULL AFTER totp_secret,
    ADD COLUMN totp_last_step BIGINT NULL AFTER totp_enabled_at,
    -- During enrolment (link from portailctl): the chosen password and the
    -- secret, both active only once a code from the secret is given.
    ADD COLUMN totp_pending VARBINARY(128) NULL AFTER totp_last_step,
    ADD COLUMN totp_pending_at DATETIME NULL AFTER totp_pending,
    ADD COLUMN pending_password_hash VARCHAR(255) NULL AFTER totp_pending_at,
    -- Agents are not members: their counters and lock live here. A lock is
    -- lifted by `portailctl agent reset LOGIN` (new enrolment link).
    ADD COLUMN password_failures INT NOT NULL DEFAULT 0,
    ADD COLUMN second_factor_failures INT NOT NULL DEFAULT 0,
    ADD COLUMN lock_reason ENUM('password', 'second_factor') NULL,
    ADD COLUMN locked_at DATETIME NULL;

-- Ten single-use codes per member, shown once. Only a keyed BLAKE2b-256 of
-- the normalised code is stored (key derived from server.secret_key_file).
CREATE TABLE member_recovery_codes (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    code_hash BINARY(32) NOT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    used_at DATETIME NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_recovery_codes (member_id, code_hash),
    CONSTRAINT fk_recovery_codes_member FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Countries (GeoIP, from nginx) a member gave the right password from: a
-- country not seen in the last days (login setting country_memory_days)
-- is suspicious.
CREATE TABLE member_countries (
    member_id BIGINT NOT NULL,
    country CHAR(2) NOT NULL,
    first_seen_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    last_seen_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (member_id, country),
    CONSTRAINT fk_member_countries_member FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
