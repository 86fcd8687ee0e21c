-- Module login: after a TOTP reset (POST /api/v1/totp/reset, which asks
-- the password only), a new authenticator may be enrolled only once the
-- single-use link mailed to the address on file has been opened (POST
-- /api/v1/totp/reenrol): whoever knows the password alone cannot put
-- their own authenticator on the account (issue 14).
ALTER TABLE members
    ADD COLUMN totp_reenrol_required_at DATETIME NULL AFTER totp_pending_at;
