-- Portail core schema: insured persons, member and agent accounts, sessions,
-- the mail outbox, account security and the audit log.
--
-- Every time is a DATETIME in UTC: the application's connections run with
-- time_zone = '+00:00', but defaults use UTC_TIMESTAMP() so that rows written
-- from any other session (mariadb client, scripts) are UTC as well. For the
-- same reason no column uses ON UPDATE CURRENT_TIMESTAMP: the code sets
-- updated_at = UTC_TIMESTAMP() itself.

-- The fund's register of insured persons, loaded from the fund's systems.
-- A member account can only be created for a row of this table.
CREATE TABLE insured (
    id BIGINT NOT NULL AUTO_INCREMENT,
    -- NIR: sex, year, month, department (2A/2B for Corsica), commune, order,
    -- key. The key is checked by the application; this only keeps garbage out.
    nir CHAR(15) NOT NULL,
    sex TINYINT NOT NULL,
    last_name VARCHAR(100) NOT NULL,
    first_name VARCHAR(100) NOT NULL,
    birth_date DATE NOT NULL,
    birth_place VARCHAR(100) NULL,
    address_line VARCHAR(200) NULL,
    postal_code CHAR(5) NULL,
    city VARCHAR(100) NULL,
    fund VARCHAR(100) NULL,
    email VARCHAR(254) NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    UNIQUE KEY uq_insured_nir (nir),
    CONSTRAINT ck_insured_nir CHECK (nir REGEXP '^[0-9]{5}([0-9]{2}|2[AB])[0-9]{8}$'),
    CONSTRAINT ck_insured_sex CHECK (sex IN (1, 2))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One online account per insured person.
CREATE TABLE members (
    id BIGINT NOT NULL AUTO_INCREMENT,
    insured_id BIGINT NOT NULL,
    email VARCHAR(254) NOT NULL,
    -- NULL until the member has chosen a password.
    password_hash VARCHAR(255) NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    updated_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    UNIQUE KEY uq_members_insured (insured_id),
    CONSTRAINT fk_members_insured FOREIGN KEY (insured_id) REFERENCES insured (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Fund staff working from the back office. Agents are disabled, never
-- deleted, so that the audit log keeps pointing at someone.
CREATE TABLE agents (
    id BIGINT NOT NULL AUTO_INCREMENT,
    login VARCHAR(64) NOT NULL,
    display_name VARCHAR(200) NOT NULL,
    role ENUM('agent', 'supervisor') NOT NULL DEFAULT 'agent',
    email VARCHAR(254) NULL,
    password_hash VARCHAR(255) NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    disabled_at DATETIME NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_agents_login (login)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Cookie sessions. Only the BLAKE2b-256 hash of the token is stored, so a
-- leaked table does not let anyone sign in. principal_id points at members
-- or agents depending on kind, hence no foreign key.
CREATE TABLE sessions (
    id BIGINT NOT NULL AUTO_INCREMENT,
    token_hash BINARY(32) NOT NULL,
    csrf_token CHAR(64) NOT NULL,
    kind ENUM('member', 'agent') NOT NULL,
    principal_id BIGINT NOT NULL,
    -- portail_auth_t: 0 agent, 1 member, 2 partial (second factor pending).
    level TINYINT NOT NULL,
    role VARCHAR(20) NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    last_seen_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    expires_at DATETIME NOT NULL,
    ip VARCHAR(45) NULL,
    country CHAR(2) NULL,
    user_agent VARCHAR(512) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_sessions_token (token_hash),
    KEY ix_sessions_principal (kind, principal_id),
    -- For the periodic purge of dead sessions.
    KEY ix_sessions_expires (expires_at),
    CONSTRAINT ck_sessions_level CHECK (level IN (0, 1, 2))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Mail written in the same transaction as the change it reports, delivered
-- later by the sender thread: a rollback sends nothing, a crash loses nothing.
CREATE TABLE mail_outbox (
    id BIGINT NOT NULL AUTO_INCREMENT,
    recipient VARCHAR(254) NOT NULL,
    subject VARCHAR(255) NOT NULL,
    body MEDIUMTEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    attempts INT NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    sent_at DATETIME NULL,
    last_error VARCHAR(500) NULL,
    PRIMARY KEY (id),
    KEY ix_mail_outbox_due (sent_at, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- At most one lock per member. Each reason has its own way out, so a second
-- reason replaces the first only when it takes more to lift (core/account.c).
CREATE TABLE account_locks (
    member_id BIGINT NOT NULL,
    reason ENUM('password', 'second_factor', 'suspicious', 'pending_verification', 'agent')
        NOT NULL,
    detail VARCHAR(500) NOT NULL DEFAULT '',
    locked_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    -- "system" or "agent:<login>"
    locked_by VARCHAR(100) NOT NULL,
    PRIMARY KEY (member_id),
    CONSTRAINT fk_account_locks_member FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Consecutive failures, reset on success or unlock.
CREATE TABLE account_counters (
    member_id BIGINT NOT NULL,
    password_failures INT NOT NULL DEFAULT 0,
    second_factor_failures INT NOT NULL DEFAULT 0,
    password_change_failures INT NOT NULL DEFAULT 0,
    updated_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (member_id),
    CONSTRAINT fk_account_counters_member FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What happened to an account, shown to its member.
CREATE TABLE security_events (
    id BIGINT NOT NULL AUTO_INCREMENT,
    member_id BIGINT NOT NULL,
    kind VARCHAR(50) NOT NULL,
    detail VARCHAR(500) NULL,
    ip VARCHAR(45) NULL,
    country CHAR(2) NULL,
    user_agent VARCHAR(512) NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    KEY ix_security_events_member (member_id, id),
    CONSTRAINT fk_security_events_member FOREIGN KEY (member_id) REFERENCES members (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every agent action, with its reason. member_id has no foreign key: the
-- trail must outlive the account it is about.
CREATE TABLE audit_log (
    id BIGINT NOT NULL AUTO_INCREMENT,
    agent_id BIGINT NOT NULL,
    member_id BIGINT NULL,
    action VARCHAR(50) NOT NULL,
    reason VARCHAR(500) NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    ip VARCHAR(45) NULL,
    PRIMARY KEY (id),
    KEY ix_audit_log_agent (agent_id, id),
    KEY ix_audit_log_member (member_id, id),
    KEY ix_audit_log_created (created_at),
    CONSTRAINT fk_audit_log_agent FOREIGN KEY (agent_id) REFERENCES agents (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
