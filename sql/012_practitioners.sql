-- Directory of health practitioners (core data: coverage reads it for the
-- médecin traitant, appointments for bookings; modules never call each
-- other). The RPPS number's last digit is a Luhn check digit over the 11
-- digits, checked by the application (portail_rpps_valid).
CREATE TABLE practitioners (
    id BIGINT NOT NULL AUTO_INCREMENT,
    rpps CHAR(11) NOT NULL,
    last_name VARCHAR(100) NOT NULL,
    first_name VARCHAR(100) NOT NULL,
    specialty VARCHAR(100) NOT NULL,
    address_line VARCHAR(200) NOT NULL,
    postal_code CHAR(5) NOT NULL,
    city VARCHAR(100) NOT NULL,
    -- Whether a general practitioner takes new patients as médecin traitant.
    accepts_new_patients TINYINT NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    UNIQUE KEY uq_practitioners_rpps (rpps),
    KEY ix_practitioners_city (city, specialty),
    KEY ix_practitioners_postcode (postal_code),
    CONSTRAINT ck_practitioners_rpps CHECK (rpps REGEXP '^[0-9]{11}$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
