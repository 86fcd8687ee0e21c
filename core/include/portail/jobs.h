/* Durable jobs and hooks (core/jobs.c, core/hooks.c).
 *
 * A job is a row enqueued in the caller's transaction: it runs only if that
 * transaction commits, on a worker thread of some portaild, at least once
 * (a portaild killed during a job runs it again elsewhere once its lease
 * passed), so a handler must be idempotent. Handlers never see a request:
 * they get a job context, below. */
#ifndef PORTAIL_JOBS_H
#define PORTAIL_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "portail/arena.h"
#include "portail/db.h"
#include "portail/module.h"

#define PORTAIL_JOB_PAYLOAD_MAX ((size_t)64 * 1024) /* serialised JSON */
#define PORTAIL_JOB_ERROR_MAX 1000                  /* bytes of last_error */

/* Enqueues a job of kind (a registered "<module>.<what>", [a-z0-9_.], at
 * most 100 bytes) to run delay_s seconds from now (0: at once), with
 * payload (an object or NULL for {}; borrowed). Runs in the caller's
 * transaction on db. 0 with *id set (id may be NULL), or -1. */
int portail_job_enqueue(portail_db_t *db, const char *kind, json_t *payload, long long delay_s,
                        int64_t *id);
/* A queued job will not run. 1 cancelled, 0 not queued (running, finished
 * or unknown), -1 on error. */
int portail_job_cancel(portail_db_t *db, int64_t id);
/* A failed job is queued again, now, with its attempts reset. 1 done, 0 not
 * failed or unknown, -1 on error. */
int portail_job_retry(portail_db_t *db, int64_t id);

/* ---- in a job handler ---------------------------------------------------- */
/* A pooled connection, acquired on first call and released after the
 * handler, with a ROLLBACK of anything it left open. NULL when the pool is
 * exhausted or the server unreachable (return -1: the job is retried). */
portail_db_t *portail_job_db(portail_job_t *job);
/* The payload object (borrowed, lives as long as the job). */
json_t *portail_job_payload(portail_job_t *job);
/* Reset after the handler. */
portail_arena_t *portail_job_arena(portail_job_t *job);
/* The module's settings and state (as init left it); NULL for core jobs. */
const portail_settings_t *portail_job_settings(portail_job_t *job);
void *portail_job_state(portail_job_t *job);
int64_t portail_job_id(const portail_job_t *job);
const char *portail_job_kind(const portail_job_t *job);
/* 1 on the first run, 2 on the first retry... */
int portail_job_attempt(const portail_job_t *job);
/* One JSON log line with the job's id and kind. */
void portail_job_log_info(portail_job_t *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void portail_job_log_warn(portail_job_t *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void portail_job_log_error(portail_job_t *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* What last_error says when the handler returns -1 (cut at
 * PORTAIL_JOB_ERROR_MAX bytes; default "failed"). */
void portail_job_set_error(portail_job_t *job, const char *text);

/* ---- hooks (core/hooks.c) ---------------------------------------------------
 * Runs the hooks every enabled module declared for ev, in config order, on
 * db inside the emitter's transaction. 0, or -1 as soon as one fails: the
 * emitter must then fail and roll back. */
int portail_hooks_emit(portail_db_t *db, portail_hook_event_t ev, int64_t member_id,
                       const char *detail);

/* Deletes a member account and every row that depends on it (sessions,
 * tokens, locks, counters, events, second factor) in one transaction on db
 * (its own, rerun whole on a 1213/1205 like portail_db_tx_retry's, or the
 * caller's if one is open), emitting MEMBER_DELETED first
 * so that modules remove theirs. The insured person stays. 1 deleted, 0 no
 * such member, -1 on error (nothing deleted). */
int portail_member_delete(portail_db_t *db, int64_t member_id);

#endif
