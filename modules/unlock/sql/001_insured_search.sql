-- The back office finds an insured person by name and birth date
-- (GET /api/v1/backoffice/insured): the day first, it narrows most.
CREATE INDEX IF NOT EXISTS ix_insured_birth_name ON insured (birth_date, last_name);
