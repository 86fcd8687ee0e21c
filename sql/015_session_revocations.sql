-- Why a session ended, for the device that still holds it: when a member
-- signs a device out from another one (or an agent's lock ends it), the
-- revoked session's token hash is kept here so that the next request of
-- that device learns the reason (a 401 with "signed_out") instead of a
-- silent sign-out. Only the holder of the token can ask (the key is the
-- token's hash); a row lives no longer than the session could have
-- (its absolute expiry or idle timeout, whichever came first) and the purge
-- job removes it then.
CREATE TABLE session_revocations (
    token_hash BINARY(32) NOT NULL,
    reason ENUM('other_device', 'agent') NOT NULL,
    expires_at DATETIME NOT NULL,
    PRIMARY KEY (token_hash),
    KEY ix_session_revocations_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
