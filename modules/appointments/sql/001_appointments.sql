-- Module appointments (README.md). Times are UTC DATETIMEs; agendas' hours
-- are Europe/Paris wall-clock minutes, turned into UTC slots by the module.

-- An agenda: a practitioner's (practitioner_id) or a fund office's (office_*).
CREATE TABLE appt_agendas (
    id BIGINT NOT NULL AUTO_INCREMENT,
    practitioner_id BIGINT NULL,
    office_name VARCHAR(200) NULL,
    office_address VARCHAR(200) NULL,
    office_postal_code CHAR(5) NULL,
    office_city VARCHAR(100) NULL,
    -- How far ahead slots are offered.
    horizon_days INT NOT NULL DEFAULT 60,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    UNIQUE KEY uq_appt_agendas_practitioner (practitioner_id),
    CONSTRAINT fk_appt_agendas_practitioner FOREIGN KEY (practitioner_id)
        REFERENCES practitioners (id),
    CONSTRAINT ck_appt_agendas_owner CHECK (practitioner_id IS NOT NULL OR
        (office_name IS NOT NULL AND office_address IS NOT NULL AND
         office_postal_code IS NOT NULL AND office_city IS NOT NULL)),
    CONSTRAINT ck_appt_agendas_horizon CHECK (horizon_days BETWEEN 1 AND 366)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Weekly opening hours: weekday 1 (Monday) to 7, local minutes since
-- midnight [opens, closes), several ranges a day.
CREATE TABLE appt_hours (
    agenda_id BIGINT NOT NULL,
    weekday TINYINT NOT NULL,
    opens SMALLINT NOT NULL,
    closes SMALLINT NOT NULL,
    PRIMARY KEY (agenda_id, weekday, opens),
    CONSTRAINT fk_appt_hours_agenda FOREIGN KEY (agenda_id) REFERENCES appt_agendas (id),
    CONSTRAINT ck_appt_hours CHECK (weekday BETWEEN 1 AND 7 AND opens >= 0 AND
        closes <= 1440 AND opens < closes)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The kinds of visit an agenda offers and their slot length.
CREATE TABLE appt_kinds (
    agenda_id BIGINT NOT NULL,
    kind ENUM('first', 'followup', 'adviser') NOT NULL,
    minutes SMALLINT NOT NULL,
    PRIMARY KEY (agenda_id, kind),
    CONSTRAINT fk_appt_kinds_agenda FOREIGN KEY (agenda_id) REFERENCES appt_agendas (id),
    CONSTRAINT ck_appt_kinds_minutes CHECK (minutes BETWEEN 5 AND 240)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Closures (holidays, leave): no slot starts in [starts_at, ends_at).
CREATE TABLE appt_closures (
    id BIGINT NOT NULL AUTO_INCREMENT,
    agenda_id BIGINT NOT NULL,
    starts_at DATETIME NOT NULL,
    ends_at DATETIME NOT NULL,
    reason VARCHAR(200) NOT NULL,
    agent_id BIGINT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    KEY ix_appt_closures_agenda (agenda_id, starts_at),
    CONSTRAINT fk_appt_closures_agenda FOREIGN KEY (agenda_id) REFERENCES appt_agendas (id),
    CONSTRAINT ck_appt_closures CHECK (starts_at < ends_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The waitlist: tell me of a slot on this agenda before that (Paris) date.
CREATE TABLE appt_waitlist (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    agenda_id BIGINT NOT NULL,
    kind ENUM('first', 'followup', 'adviser') NOT NULL,
    before_date DATE NOT NULL,
    status ENUM('waiting', 'booked', 'removed') NOT NULL DEFAULT 'waiting',
    created_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
    PRIMARY KEY (id),
    KEY ix_appt_waitlist_agenda (agenda_id, status, created_at),
    KEY ix_appt_waitlist_member (member_id, status),
    CONSTRAINT fk_appt_waitlist_member FOREIGN KEY (member_id) REFERENCES members (id),
    CONSTRAINT fk_appt_waitlist_agenda FOREIGN KEY (agenda_id) REFERENCES appt_agendas (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Appointments. No double booking is the database's: active_start is the
-- start while the row holds its slot (booked, or held for a waitlist
-- offer), NULL otherwise (a UNIQUE key allows many NULLs), and
-- UNIQUE (agenda_id, active_start) refuses a second holder (error 1062).
-- Likewise one booked appointment per member, agenda and Paris day
-- (local_day, written by the module).
CREATE TABLE appt_appointments (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    agenda_id BIGINT NOT NULL,
    kind ENUM('first', 'followup', 'adviser') NOT NULL,
    start_utc DATETIME NOT NULL,
    end_utc DATETIME NOT NULL,
    local_day DATE NOT NULL,
    -- NULL: the member; else a name the member typed (at most 100 bytes).
    beneficiary VARCHAR(100) NULL,
    reason VARCHAR(500) NULL,
    status ENUM('booked', 'cancelled_by_member', 'cancelled_by_office', 'done', 'no_show',
                'held') NOT NULL DEFAULT 'booked',
    cancel_reason VARCHAR(200) NULL,
    -- Bumped on every change: the .ics SEQUENCE.
    sequence INT NOT NULL DEFAULT 0,
    -- A 'held' row: the waitlist entry it is offered to, until when.
    waitlist_id BIGINT NULL,
    held_until DATETIME NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    updated_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    active_start DATETIME AS (IF(status IN ('booked', 'held'), start_utc, NULL)) PERSISTENT,
    active_day DATE AS (IF(status = 'booked', local_day, NULL)) PERSISTENT,
    PRIMARY KEY (id),
    UNIQUE KEY uq_appt_slot (agenda_id, active_start),
    UNIQUE KEY uq_appt_member_day (member_id, agenda_id, active_day),
    KEY ix_appt_member (member_id, start_utc),
    KEY ix_appt_agenda (agenda_id, start_utc),
    KEY ix_appt_waitlist (waitlist_id),
    CONSTRAINT fk_appt_member FOREIGN KEY (member_id) REFERENCES members (id),
    CONSTRAINT fk_appt_agenda FOREIGN KEY (agenda_id) REFERENCES appt_agendas (id),
    CONSTRAINT fk_appt_waitlist FOREIGN KEY (waitlist_id) REFERENCES appt_waitlist (id),
    CONSTRAINT ck_appt_times CHECK (start_utc < end_utc)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Waitlist offers made, so that an expired one goes to the next person and
-- never back to the same one for the same slot.
CREATE TABLE appt_offers (
    waitlist_id BIGINT NOT NULL,
    agenda_id BIGINT NOT NULL,
    start_utc DATETIME NOT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (waitlist_id, start_utc),
    KEY ix_appt_offers_slot (agenda_id, start_utc),
    CONSTRAINT fk_appt_offers_waitlist FOREIGN KEY (waitlist_id) REFERENCES appt_waitlist (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Reminders sent: once per appointment, which one and start.
CREATE TABLE appt_reminders (
    appointment_id BIGINT NOT NULL,
    which ENUM('days', 'hours') NOT NULL,
    start_utc DATETIME NOT NULL,
    sent_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (appointment_id, which, start_utc),
    CONSTRAINT fk_appt_reminders_appt FOREIGN KEY (appointment_id)
        REFERENCES appt_appointments (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
