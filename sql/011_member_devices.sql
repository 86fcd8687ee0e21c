-- A member's known devices, for the login module (modules/login/device.c;
-- OWASP "slow down online guessing with device cookies"): a browser that
-- signed in with both factors holds a cookie naming the member and one of
-- these rows, signed under the key file. Its
-- failures count here, not against the account, so that strangers locking
-- the account do not lock its member out; past its own budget, or revoked,
-- or expired, the browser is an unknown device again.
CREATE TABLE member_devices (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    -- 128 random bits, hex, also in the cookie.
    device CHAR(32) CHARACTER SET ascii NOT NULL,
    failures INT NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    last_seen_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    expires_at DATETIME NOT NULL,
    revoked_at DATETIME NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_member_devices_device (device),
    KEY ix_member_devices_member (member_id),
    CONSTRAINT fk_member_devices_member FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
