-- Durable jobs (core/jobs.c): rows written in the caller's transaction, so a
-- job enqueued by a request that rolls back never runs, and claimed by the
-- worker threads of any portaild with SELECT ... FOR UPDATE SKIP LOCKED.
--
-- A claimed job is `running` with a lease: its run_at is moved to the end of
-- the lease, so one index (state, run_at) finds both the queued jobs that are
-- due and the running ones whose lease passed (their portaild died): a job
-- is never lost, at worst it runs again.
CREATE TABLE jobs (
    id BIGINT NOT NULL AUTO_INCREMENT,
    -- "<module>.<what>", as declared in the module's descriptor.
    kind VARCHAR(100) NOT NULL,
    -- The part of kind before the first dot ("core" for the core's jobs).
    module VARCHAR(64) NOT NULL,
    run_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    payload LONGTEXT NOT NULL DEFAULT '{}',
    state ENUM('queued', 'running', 'done', 'failed', 'cancelled') NOT NULL DEFAULT 'queued',
    attempts INT NOT NULL DEFAULT 0,
    max_attempts INT NOT NULL DEFAULT 5,
    lease_until DATETIME NULL,
    -- "host:pid:worker:random" of the portaild thread running it.
    lease_owner VARCHAR(150) NULL,
    last_error VARCHAR(1000) NULL,
    -- Set for recurring jobs (core.purge): one schedule however many
    -- portaild start.
    unique_key VARCHAR(190) NULL,
    created_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    updated_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),
    PRIMARY KEY (id),
    UNIQUE KEY uq_jobs_unique (unique_key),
    -- The claim: state IN ('queued', 'running') AND run_at <= now.
    KEY ix_jobs_due (state, run_at),
    -- The back office list and the retention purge.
    KEY ix_jobs_kind (kind, state, id),
    KEY ix_jobs_updated (state, updated_at),
    CONSTRAINT ck_jobs_payload CHECK (JSON_VALID(payload) AND LENGTH(payload) <= 65536),
    CONSTRAINT ck_jobs_attempts CHECK (attempts >= 0 AND max_attempts >= 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
