/* Test module for jobs and hooks (tests/integration/test_jobs.py,
 * test_hooks.py): job kinds that record a run, fail, or sleep; hooks that
 * record a row in the emitter's transaction or fail for a listed member;
 * public test-only routes to enqueue, emit and delete.
 *
 * Its tables are created by POST /api/v1/test/jobmod/setup (a test module
 * has no migration); until then its hooks do nothing, so that the rest of
 * the suite runs with the module loaded and no table. */
#include <portail/portail.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int tables_ready;

/* ---- jobs ------------------------------------------------------------------ */

static int record(portail_job_t *job, const char *phase)
{
    portail_db_t *db = portail_job_db(job);
    if (!db)
        return -1;
    const char *tag = json_string_value(json_object_get(portail_job_payload(job), "tag"));
    long long n =
        portail_db_exec(db,
                        "INSERT INTO jobmod_runs (job_id, kind, attempt, tag, phase, pid) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        "lsissi", (long long)portail_job_id(job), portail_job_kind(job),
                        portail_job_attempt(job), tag, phase, (int)getpid());
    return n == 1 ? 0 : -1;
}

static int job_record(portail_job_t *job)
{
    return record(job, "run");
}

static int job_fail(portail_job_t *job)
{
    if (record(job, "run") != 0)
        return -1;
    const char *why = json_string_value(json_object_get(portail_job_payload(job), "error"));
    portail_job_log_warn(job, "failing on purpose");
    portail_job_set_error(job, why ? why : "échec voulu");
    return -1;
}

static int job_sleep(portail_job_t *job)
{
    if (record(job, "start") != 0)
        return -1;
    json_int_t s = json_integer_value(json_object_get(portail_job_payload(job), "seconds"));
    if (s < 0 || s > 60)
        s = 1;
    struct timespec ts = {(time_t)s, 0};
    while (nanosleep(&ts, &ts) != 0) {
    }
    return record(job, "end");
}

/* No database at all: what the bench measures is the queue. */
static int job_noop(portail_job_t *job)
{
    (void)job;
    return 0;
}

static const portail_job_kind_t jobs[] = {
    {.name = "jobmod.record", .handler = job_record},
    {.name = "jobmod.fail", .handler = job_fail, .max_attempts = 2},
    {.name = "jobmod.sleep", .handler = job_sleep, .max_attempts = 5, .lease_seconds = 5},
    {.name = "jobmod.noop", .handler = job_noop},
    {0},
};

/* ---- hooks ------------------------------------------------------------------ */

static const char *event_name(portail_hook_event_t ev)
{
    switch (ev) {
    case PORTAIL_HOOK_ACCOUNT_LOCKED:
        return "account_locked";
    case PORTAIL_HOOK_ACCOUNT_UNLOCKED:
        return "account_unlocked";
    case PORTAIL_HOOK_EMAIL_CHANGED:
        return "email_changed";
    case PORTAIL_HOOK_MEMBER_DELETED:
        return "member_deleted";
    }
    return "unknown";
}

static int on_event(portail_db_t *db, const portail_hook_args_t *args, void *state)
{
    (void)state;
    if (!atomic_load(&tables_ready)) {
        /* Created by another process (the stack's portaild) for this one
         * (a portailctl, a private portaild)? */
        json_t *t = portail_db_row(db,
                                   "SELECT COUNT(*) AS n FROM information_schema.tables WHERE "
                                   "table_schema = DATABASE() AND table_name = 'jobmod_hook_fail'",
                                   "");
        if (!t)
            return -1;
        if (portail_row_int(t, "n", 0) == 0)
            return 0;
        atomic_store(&tables_ready, 1);
    }
    json_t *row = portail_db_row(db, "SELECT member_id FROM jobmod_hook_fail WHERE member_id = ?",
                                 "l", (long long)args->member_id);
    if (row)
        return -1; /* asked to fail */
    if (portail_db_failed(db))
        return -1;
    long long n =
        portail_db_exec(db,
                        "INSERT INTO jobmod_hooks (event, member_id, detail) "
                        "VALUES (?, ?, ?)",
                        "sls", event_name(args->event), (long long)args->member_id, args->detail);
    return n == 1 ? 0 : -1;
}

static const portail_hook_t hooks[] = {
    {.event = PORTAIL_HOOK_ACCOUNT_LOCKED, .handler = on_event},
    {.event = PORTAIL_HOOK_ACCOUNT_UNLOCKED, .handler = on_event},
    {.event = PORTAIL_HOOK_EMAIL_CHANGED, .handler = on_event},
    {.event = PORTAIL_HOOK_MEMBER_DELETED, .handler = on_event},
    {0},
};

/* ---- test routes ------------------------------------------------------------------ */

static void setup(portail_ctx_t *ctx)
{
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    if (portail_db_exec(db,
                        "CREATE TABLE IF NOT EXISTS jobmod_runs (id BIGINT NOT NULL "
                        "AUTO_INCREMENT PRIMARY KEY, job_id BIGINT NOT NULL, kind VARCHAR(100) "
                        "NOT NULL, attempt INT NOT NULL, tag VARCHAR(100) NULL, phase "
                        "VARCHAR(10) NOT NULL, pid INT NOT NULL, created_at DATETIME(3) NOT NULL "
                        "DEFAULT (UTC_TIMESTAMP(3)), KEY (job_id)) ENGINE=InnoDB",
                        "") < 0 ||
        portail_db_exec(db,
                        "CREATE TABLE IF NOT EXISTS jobmod_hooks (id BIGINT NOT NULL "
                        "AUTO_INCREMENT PRIMARY KEY, event VARCHAR(30) NOT NULL, member_id "
                        "BIGINT NOT NULL, detail VARCHAR(200) NULL) ENGINE=InnoDB",
                        "") < 0 ||
        portail_db_exec(db,
                        "CREATE TABLE IF NOT EXISTS jobmod_hook_fail (member_id BIGINT NOT "
                        "NULL PRIMARY KEY) ENGINE=InnoDB",
                        "") < 0) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    atomic_store(&tables_ready, 1);
    portail_respond_json(ctx, 200, json_pack("{s:b}", "ready", 1));
}

/* {kind, payload?, delay?, count?, rollback?} -> 201 {ids} (or 409 after a
 * rollback: the jobs must never run). */
static void enqueue(portail_ctx_t *ctx)
{
    json_t *body = portail_req_json(ctx);
    const char *kind = json_string_value(json_object_get(body, "kind"));
    json_t *payload = json_object_get(body, "payload");
    json_int_t delay = json_integer_value(json_object_get(body, "delay"));
    json_int_t count = json_is_integer(json_object_get(body, "count"))
                           ? json_integer_value(json_object_get(body, "count"))
                           : 1;
    int rollback = json_is_true(json_object_get(body, "rollback"));
    if (!kind || count < 1 || count > 1000) {
        portail_problem(ctx, 400, NULL, "kind et count (1..1000) attendus.");
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db || portail_db_begin(db) != 0)
        return;
    json_t *ids = json_array();
    for (json_int_t i = 0; i < count; i++) {
        int64_t id = 0;
        if (portail_job_enqueue(db, kind, payload, delay, &id) != 0) {
            json_decref(ids);
            portail_db_rollback(db);
            portail_problem(ctx, 422, NULL, "Travail refusé.");
            return;
        }
        json_array_append_new(ids, json_integer(id));
    }
    if (rollback) {
        portail_db_rollback(db);
        portail_respond_json(ctx, 409, json_pack("{s:o}", "ids", ids));
        return;
    }
    if (portail_db_commit(db) != 0) {
        json_decref(ids);
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    portail_respond_json(ctx, 201, json_pack("{s:o}", "ids", ids));
}

/* {event, member_id, detail?} -> {rc}, emitted in a transaction that
 * commits only when every hook succeeded. */
static void emit(portail_ctx_t *ctx)
{
    json_t *body = portail_req_json(ctx);
    json_int_t ev = json_integer_value(json_object_get(body, "event"));
    json_int_t member = json_integer_value(json_object_get(body, "member_id"));
    const char *detail = json_string_value(json_object_get(body, "detail"));
    portail_db_t *db = portail_db(ctx);
    if (!db || portail_db_begin(db) != 0)
        return;
    int rc = portail_hooks_emit(db, (portail_hook_event_t)ev, member, detail);
    if (rc == 0 && portail_db_commit(db) != 0)
        rc = -1;
    if (rc != 0)
        portail_db_rollback(db);
    portail_respond_json(ctx, 200, json_pack("{s:i}", "rc", rc));
}

static void delete_member(portail_ctx_t *ctx)
{
    const char *s = portail_req_param(ctx, "id");
    long long id = s ? strtoll(s, NULL, 10) : 0;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:i}", "rc", portail_member_delete(db, id)));
}

static const portail_route_t routes[] = {
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/jobmod/setup",
     .handler = setup,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/jobs",
     .handler = enqueue,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = 128 * 1024},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/hooks/emit",
     .handler = emit,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/members/{id}/delete",
     .handler = delete_member,
     .auth = PORTAIL_AUTH_PUBLIC},
    {0},
};

PORTAIL_MODULE_INIT(.name = "jobmod", .version = "1.0.0", .routes = routes, .jobs = jobs,
                    .hooks = hooks);
