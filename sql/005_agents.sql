-- Agents use the core's account-security service like members: their
-- failure counters and their lock live in tables of the core, shaped like
-- the members' (core/account.c, PORTAIL_PRINCIPAL_AGENT). Their events go
-- to the audit log as before.
CREATE TABLE agent_locks (
    agent_id BIGINT NOT NULL,
    reason ENUM('password', 'second_factor', 'suspicious', 'pending_verification', 'agent')
        NOT NULL,
    detail VARCHAR(500) NOT NULL DEFAULT '',
    locked_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    -- "system" or "agent:<login>"
    locked_by VARCHAR(100) NOT NULL,
    PRIMARY KEY (agent_id),
    CONSTRAINT fk_agent_locks_agent FOREIGN KEY (agent_id) REFERENCES agents (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE agent_counters (
    agent_id BIGINT NOT NULL,
    password_failures INT NOT NULL DEFAULT 0,
    second_factor_failures INT NOT NULL DEFAULT 0,
    password_change_failures INT NOT NULL DEFAULT 0,
    updated_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (agent_id),
    CONSTRAINT fk_agent_counters_agent FOREIGN KEY (agent_id) REFERENCES agents (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A database made before this file kept agents' counters and lock in
-- columns that the login module's migration added to `agents`: they are
-- carried over so that no locked agent comes out unlocked. When the login
-- module's migrations run after the core's (a new database), the columns
-- are not there yet and there is nothing to carry.
SET @agent_cols := (SELECT COUNT(*) FROM information_schema.columns
                    WHERE table_schema = DATABASE() AND table_name = 'agents'
                      AND column_name IN ('lock_reason', 'locked_at', 'password_failures',
                                          'second_factor_failures'));
SET @carry_locks := IF(@agent_cols = 4,
    'INSERT INTO agent_locks (agent_id, reason, detail, locked_at, locked_by) '
    'SELECT id, lock_reason, '''', COALESCE(locked_at, UTC_TIMESTAMP()), ''system'' '
    'FROM agents WHERE lock_reason IS NOT NULL',
    'DO 0');
PREPARE carry FROM @carry_locks;
EXECUTE carry;
DEALLOCATE PREPARE carry;
SET @carry_counters := IF(@agent_cols = 4,
    'INSERT INTO agent_counters (agent_id, password_failures, second_factor_failures) '
    'SELECT id, password_failures, second_factor_failures FROM agents '
    'WHERE password_failures > 0 OR second_factor_failures > 0',
    'DO 0');
PREPARE carry FROM @carry_counters;
EXECUTE carry;
DEALLOCATE PREPARE carry;

-- Roles are the config's (`roles` group, core/permission.c), not a fixed
-- pair: agent and supervisor by default, others an administrator defines.
ALTER TABLE agents MODIFY role VARCHAR(20) NOT NULL DEFAULT 'agent';
