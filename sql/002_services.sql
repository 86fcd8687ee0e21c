-- Core services shared by the login and unlock modules: fixed-window
-- throttles and one-time tokens for the links sent by mail.

CREATE TABLE throttle (
    k VARCHAR(190) NOT NULL,
    window_start DATETIME NOT NULL,
    hits INT NOT NULL DEFAULT 0,
    PRIMARY KEY (k),
    KEY ix_throttle_window (window_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE one_time_tokens (
    id BIGINT NOT NULL AUTO_INCREMENT,
    purpose VARCHAR(32) NOT NULL,
    -- BLAKE2b-256 of the 32 random bytes; the link itself is never stored.
    token_hash BINARY(32) NOT NULL,
    subject_id BIGINT NOT NULL,
    data TEXT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    expires_at DATETIME NOT NULL,
    used_at DATETIME NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_tokens_hash (token_hash),
    KEY ix_tokens_subject (purpose, subject_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
