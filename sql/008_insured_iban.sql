-- The IBAN the fund pays into, as the fund's systems hold it: registration
-- asks for its last 7 characters (with the postcode on file) to tell the
-- person from a stranger who knows the NIR and birth date (issue 14).
-- Compact and in upper case (portail_valid_iban); NULL: none on file, the
-- person registers with a provisional code sent by post.
ALTER TABLE insured
    ADD COLUMN iban VARCHAR(34) NULL AFTER email;
