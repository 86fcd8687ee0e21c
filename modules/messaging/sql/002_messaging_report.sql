-- The first run of the daily report to the supervisors (messaging.report):
-- each run queues the next one, 24 hours later.
INSERT INTO jobs (kind, module, run_at, payload, max_attempts)
SELECT 'messaging.report', 'messaging', UTC_TIMESTAMP() + INTERVAL 1 HOUR, '{}', 3
FROM DUAL
WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE kind = 'messaging.report' AND state IN ('queued', 'running'));
