/* Durable jobs: a row per job in `jobs` (sql/004_jobs.sql), enqueued in the
 * caller's transaction, claimed by worker threads with SELECT ... FOR
 * UPDATE SKIP LOCKED so that any number of portaild share one queue.
 *
 * A claim is a short transaction of its own that marks the job running
 * with a lease and an owner; the handler runs outside it, and the end of
 * the job is an update guarded by the owner. A portaild that dies during a
 * job leaves it running: once the lease passed, another claims it again.
 * So jobs run at least once, never zero times, and handlers must be
 * idempotent.
 *
 * A kind nobody registers (its module is disabled or absent here) is never
 * claimed: it stays queued for a portaild that has it, and each worker
 * process logs it once. */
#include <errno.h>
#include <mysql.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "portail/texts.h"

#define KIND_MAX 100
#define MODULE_MAX 64
#define OWNER_MAX 150
#define DEFAULT_ATTEMPTS 5
#define DEFAULT_LEASE_S 60
#define UNKNOWN_CHECK_S 60
#define MAX_LOGGED_UNKNOWN 64
#define PURGE_BATCH 1000
#define PURGE_ROUNDS 20
#define LIST_MAX 200

typedef struct job_kind_reg {
    const char *name;
    portail_job_fn fn;
    int max_attempts;
    int lease_s;
    const portail_loaded_module_t *module; /* NULL: the core's */
    int recurring;                         /* re-queued after each run (core.purge) */
} job_kind_reg_t;

struct portail_job {
    portail_host_t *host;
    const job_kind_reg_t *reg;
    int64_t id;
    int attempt;
    json_t *payload;
    portail_arena_t *arena;
    portail_db_t *db;
    char error[PORTAIL_JOB_ERROR_MAX + 1];
};

static struct {
    job_kind_reg_t *kinds;
    size_t n;
    char *csv; /* "a.b,c.d": FIND_IN_SET in the claim */
} reg;

typedef struct job_worker {
    pthread_t thread;
    int index;
    char owner[OWNER_MAX + 1];
    bool started;
} job_worker_t;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    portail_host_t *host;
    job_worker_t *workers;
    int n;
    bool running;
} jw = {.mu = PTHREAD_MUTEX_INITIALIZER};

static atomic_bool jobs_stop;

/* ---- kinds ------------------------------------------------------------------ */

static int purge_job(portail_job_t *job);

static const portail_job_kind_t core_kinds[] = {
    {.name = "core.purge", .handler = purge_job, .max_attempts = 3, .lease_seconds = 300},
    {0},
};

static int kind_name_ok(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    const char *dot = strchr(s, '.');
    if (n == 0 || n > KIND_MAX || !dot || dot == s || (size_t)(dot - s) > MODULE_MAX ||
        dot[1] == '\0')
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

static const job_kind_reg_t *find_kind(const char *name)
{
    for (size_t i = 0; i < reg.n; i++)
        if (strcmp(reg.kinds[i].name, name) == 0)
            return &reg.kinds[i];
    return NULL;
}

/* The kinds were checked with their descriptor (loader.c: name, handler,
 * bounds; permission.c: unique across modules); the core's are constants. */
static int add_kind(const portail_job_kind_t *k, const portail_loaded_module_t *m, char *err,
                    size_t errlen)
{
    if (find_kind(k->name)) {
        snprintf(err, errlen, "module %s: job kind %s is declared twice",
                 m ? m->desc->name : "core", k->name);
        return -1;
    }
    job_kind_reg_t *r = &reg.kinds[reg.n++];
    r->name = k->name;
    r->fn = k->handler;
    r->max_attempts = k->max_attempts ? k->max_attempts : DEFAULT_ATTEMPTS;
    r->lease_s = k->lease_seconds ? k->lease_seconds : DEFAULT_LEASE_S;
    r->module = m;
    r->recurring = m == NULL && strcmp(k->name, "core.purge") == 0;
    return 0;
}

void portail_jobs_unregister(void)
{
    free(reg.kinds);
    free(reg.csv);
    memset(&reg, 0, sizeof(reg));
}

int portail_jobs_register(portail_host_t *h, char *err, size_t errlen)
{
    portail_jobs_unregister();
    size_t total = 0;
    for (const portail_job_kind_t *k = core_kinds; k->name; k++)
        total++;
    for (size_t i = 0; i < h->nmodules; i++)
        if (h->modules[i].enabled && h->modules[i].desc->jobs)
            for (const portail_job_kind_t *k = h->modules[i].desc->jobs; k->name || k->handler; k++)
                total++;
    reg.kinds = calloc(total + 1, sizeof(*reg.kinds));
    if (!reg.kinds) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (const portail_job_kind_t *k = core_kinds; k->name; k++)
        if (add_kind(k, NULL, err, errlen) < 0)
            return -1;
    for (size_t i = 0; i < h->nmodules; i++) {
        const portail_loaded_module_t *m = &h->modules[i];
        if (!m->enabled || !m->desc->jobs)
            continue;
        for (const portail_job_kind_t *k = m->desc->jobs; k->name || k->handler; k++)
            if (add_kind(k, m, err, errlen) < 0)
                return -1;
    }
    size_t len = 1;
    for (size_t i = 0; i < reg.n; i++)
        len += strlen(reg.kinds[i].name) + 1;
    reg.csv = calloc(len, 1);
    if (!reg.csv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < reg.n; i++) {
        if (i)
            strcat(reg.csv, ",");
        strcat(reg.csv, reg.kinds[i].name);
    }
    return 0;
}

/* ---- enqueue, cancel, retry ------------------------------------------------- */

int portail_job_enqueue(portail_db_t *db, const char *kind, json_t *payload, long long delay_s,
                        int64_t *id)
{
    if (!db || !kind_name_ok(kind) || delay_s < 0 || delay_s > 10LL * 366 * 86400 ||
        (payload && !json_is_object(payload))) {
        portail_logf("error", NULL, "job refused: bad arguments (kind %.100s)",
                     kind_name_ok(kind) ? kind : "invalid");
        return -1;
    }
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : strdup("{}");
    if (!text || strlen(text) > PORTAIL_JOB_PAYLOAD_MAX) {
        portail_logf("error", NULL, "job %s refused: payload %s", kind,
                     text ? "over 64 KiB" : "not serialisable");
        portail_json_free(text);
        return -1;
    }
    char module[MODULE_MAX + 1];
    size_t mlen = (size_t)(strchr(kind, '.') - kind);
    memcpy(module, kind, mlen);
    module[mlen] = '\0';
    const job_kind_reg_t *r = find_kind(kind);
    int max_attempts = r ? r->max_attempts : DEFAULT_ATTEMPTS;
    long long n = portail_db_exec(db,
                                  "INSERT INTO jobs (kind, module, run_at, payload, max_attempts) "
                                  "VALUES (?, ?, UTC_TIMESTAMP() + INTERVAL ? SECOND, ?, ?)",
                                  "sslsi", kind, module, delay_s, text, max_attempts);
    portail_json_free(text);
    if (n != 1)
        return -1;
    if (id)
        *id = (int64_t)portail_db_insert_id(db);
    return 0;
}

int portail_job_cancel(portail_db_t *db, int64_t id)
{
    if (!db || id <= 0)
        return -1;
    long long n = portail_db_exec(db,
                                  "UPDATE jobs SET state = 'cancelled', updated_at = "
                                  "UTC_TIMESTAMP() WHERE id = ? AND state = 'queued'",
                                  "l", (long long)id);
    return n < 0 ? -1 : n > 0;
}

int portail_job_retry(portail_db_t *db, int64_t id)
{
    if (!db || id <= 0)
        return -1;
    long long n = portail_db_exec(db,
                                  "UPDATE jobs SET state = 'queued', attempts = 0, run_at = "
                                  "UTC_TIMESTAMP(), updated_at = UTC_TIMESTAMP() "
                                  "WHERE id = ? AND state = 'failed'",
                                  "l", (long long)id);
    return n < 0 ? -1 : n > 0;
}

/* ---- the job context --------------------------------------------------------------- */

portail_db_t *portail_job_db(portail_job_t *job)
{
    if (job->db)
        return job->db;
    int why = PORTAIL_POOL_OK;
    char tag[40];
    snprintf(tag, sizeof tag, "job-%lld", (long long)job->id);
    job->db = portail_pool_acquire(job->host->pool, job->arena, tag,
                                   job->host->conf->db.acquire_timeout_ms, &why);
    if (!job->db)
        portail_job_set_error(job, why == PORTAIL_POOL_EXHAUSTED ? "database pool exhausted"
                                                                 : "database unreachable");
    return job->db;
}

json_t *portail_job_payload(portail_job_t *job)
{
    return job->payload;
}

portail_arena_t *portail_job_arena(portail_job_t *job)
{
    return job->arena;
}

const portail_settings_t *portail_job_settings(portail_job_t *job)
{
    return job->reg->module ? &job->reg->module->settings : NULL;
}

void *portail_job_state(portail_job_t *job)
{
    return job->reg->module ? job->reg->module->state : NULL;
}

int64_t portail_job_id(const portail_job_t *job)
{
    return job->id;
}

const char *portail_job_kind(const portail_job_t *job)
{
    return job->reg->name;
}

int portail_job_attempt(const portail_job_t *job)
{
    return job->attempt;
}

static void job_vlog(const char *level, int64_t id, const char *kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void job_vlog(const char *level, int64_t id, const char *kind, const char *fmt, va_list ap)
{
    char msg[4096], line[8192], t[40];
    vsnprintf(msg, sizeof msg, fmt, ap);
    portail_log_time(t, sizeof t);
    size_t n = (size_t)snprintf(line, sizeof line,
                                "{\"time\":\"%s\",\"level\":\"%s\",\"job_id\":%lld,\"kind\":\"", t,
                                level, (long long)id);
    n = portail_json_escape(line, n, sizeof line - 16, kind);
    n += (size_t)snprintf(line + n, sizeof line - n, "\",\"msg\":\"");
    n = portail_json_escape(line, n, sizeof line - 4, msg);
    memcpy(line + n, "\"}\n", 3);
    portail_log_raw(line, n + 3);
}

#define JOB_LOG(level)                                                                             \
    va_list ap;                                                                                    \
    va_start(ap, fmt);                                                                             \
    job_vlog(level, job->id, job->reg->name, fmt, ap);                                             \
    va_end(ap)

void portail_job_log_info(portail_job_t *job, const char *fmt, ...)
{
    JOB_LOG("info");
}

void portail_job_log_warn(portail_job_t *job, const char *fmt, ...)
{
    JOB_LOG("warn");
}

void portail_job_log_error(portail_job_t *job, const char *fmt, ...)
{
    JOB_LOG("error");
}

static void job_log(const char *level, int64_t id, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void job_log(const char *level, int64_t id, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    job_vlog(level, id, kind, fmt, ap);
    va_end(ap);
}

/* Whole characters, no control bytes: last_error is shown in the back office. */
void portail_job_set_error(portail_job_t *job, const char *text)
{
    if (!text)
        text = "failed";
    size_t n = strlen(text);
    if (n > PORTAIL_JOB_ERROR_MAX) {
        n = PORTAIL_JOB_ERROR_MAX;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(job->error, text, n);
    job->error[n] = '\0';
    for (unsigned char *p = (unsigned char *)job->error; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            *p = ' ';
    if (!portail_utf8_valid(job->error, n))
        for (unsigned char *p = (unsigned char *)job->error; *p; p++)
            if (*p >= 0x80)
                *p = '?';
}

/* ---- claiming and running ------------------------------------------------------------ */

static int backoff_s(const portail_conf_t *c, int attempts)
{
    long long d = c->jobs_backoff_s;
    for (int i = 1; i < attempts && d < c->jobs_backoff_max_s; i++)
        d *= 2;
    return d > c->jobs_backoff_max_s ? c->jobs_backoff_max_s : (int)d;
}

static portail_db_t *acquire(portail_host_t *h, portail_arena_t *a)
{
    int why = PORTAIL_POOL_OK;
    return portail_pool_acquire(h->pool, a, "jobs", h->conf->db.acquire_timeout_ms, &why);
}

/* Ends a run. The owner guard makes a late finish (after the lease passed
 * and someone else claimed the job) a no-op instead of a clobber. */
static void finish(portail_host_t *h, portail_arena_t *a, const job_kind_reg_t *r, int64_t id,
                   const char *owner, int attempts, int max_attempts, int ok, const char *error)
{
    const portail_conf_t *c = h->conf;
    for (int tries = 0; tries < 3; tries++) {
        portail_db_t *db = acquire(h, a);
        if (!db) {
            struct timespec ts = {0, 200 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        long long n;
        if (ok && !r->recurring) {
            n = portail_db_exec(db,
                                "UPDATE jobs SET state = 'done', lease_until = NULL, "
                                "lease_owner = NULL, updated_at = UTC_TIMESTAMP() "
                                "WHERE id = ? AND lease_owner = ? AND state = 'running'",
                                "ls", (long long)id, owner);
        } else if (ok || (r->recurring && attempts >= max_attempts)) {
            /* A recurring job keeps its single row (unique_key): it goes
             * back to the queue for its next turn, failed or not. */
            n = portail_db_exec(db,
                                "UPDATE jobs SET state = 'queued', attempts = 0, "
                                "run_at = UTC_TIMESTAMP() + INTERVAL ? SECOND, "
                                "lease_until = NULL, lease_owner = NULL, last_error = ?, "
                                "updated_at = UTC_TIMESTAMP() "
                                "WHERE id = ? AND lease_owner = ? AND state = 'running'",
                                "isls", c->jobs_purge_s, ok ? NULL : error, (long long)id, owner);
        } else if (attempts < max_attempts) {
            n = portail_db_exec(db,
                                "UPDATE jobs SET state = 'queued', "
                                "run_at = UTC_TIMESTAMP() + INTERVAL ? SECOND, "
                                "lease_until = NULL, lease_owner = NULL, last_error = ?, "
                                "updated_at = UTC_TIMESTAMP() "
                                "WHERE id = ? AND lease_owner = ? AND state = 'running'",
                                "isls", backoff_s(c, attempts), error, (long long)id, owner);
        } else {
            n = portail_db_exec(db,
                                "UPDATE jobs SET state = 'failed', lease_until = NULL, "
                                "lease_owner = NULL, last_error = ?, "
                                "updated_at = UTC_TIMESTAMP() "
                                "WHERE id = ? AND lease_owner = ? AND state = 'running'",
                                "sls", error, (long long)id, owner);
        }
        portail_pool_release(db);
        if (n < 0)
            continue;
        if (n == 0)
            job_log("warn", id, r->name,
                    "finished after its lease passed: another worker may run it again");
        else if (!ok && attempts >= max_attempts && !r->recurring)
            job_log("error", id, r->name, "failed for good after %d attempts: %s", attempts, error);
        else if (!ok)
            job_log("warn", id, r->name, "attempt %d of %d failed: %s", attempts, max_attempts,
                    error);
        return;
    }
    job_log("error", id, r->name, "could not record the end of the run: it will run again");
}

static int claim_tx(portail_db_t *db)
{
    /* READ COMMITTED: no gap locks, so a claim never holds up an enqueue,
     * and rows the WHERE rejects are not kept locked. */
    if (portail_db_exec(db, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "") < 0)
        return -1;
    return portail_db_begin(db);
}

/* 1 when a job was run (or settled), 0 when none was due, -1 on error. */
static int run_one(job_worker_t *w, portail_arena_t *a)
{
    portail_host_t *h = jw.host;
    portail_db_t *db = acquire(h, a);
    if (!db)
        return -1;
    if (claim_tx(db) != 0) {
        portail_pool_release(db);
        return -1;
    }
    json_t *row = portail_db_row(db,
                                 "SELECT id, kind, payload, attempts, max_attempts FROM jobs "
                                 "WHERE state = 'queued' AND run_at <= UTC_TIMESTAMP() "
                                 "AND FIND_IN_SET(kind, ?) > 0 "
                                 "ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                                 "s", reg.csv);
    int expired = 0;
    if (!row && !portail_db_failed(db)) {
        row = portail_db_row(db,
                             "SELECT id, kind, payload, attempts, max_attempts FROM jobs "
                             "WHERE state = 'running' AND run_at <= UTC_TIMESTAMP() "
                             "AND FIND_IN_SET(kind, ?) > 0 "
                             "ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                             "s", reg.csv);
        expired = row != NULL;
    }
    if (!row) {
        int failed = portail_db_failed(db);
        portail_pool_release(db);
        return failed ? -1 : 0;
    }
    int64_t id = portail_row_int(row, "id", 0);
    const char *kind = portail_row_str(row, "kind");
    const job_kind_reg_t *r = kind ? find_kind(kind) : NULL;
    int attempts = (int)portail_row_int(row, "attempts", 0);
    int max_attempts = (int)portail_row_int(row, "max_attempts", 1);
    if (!r) {
        portail_pool_release(db);
        return -1;
    }
    if (expired)
        job_log("warn", id, r->name, "lease passed (its portaild stopped or hung): running again");
    if (expired && attempts >= max_attempts && !r->recurring) {
        /* It took its portaild down or hung every time: stop here. */
        long long n = portail_db_exec(db,
                                      "UPDATE jobs SET state = 'failed', lease_until = NULL, "
                                      "lease_owner = NULL, last_error = 'lease expired', "
                                      "updated_at = UTC_TIMESTAMP() WHERE id = ?",
                                      "l", (long long)id);
        int rc = n == 1 && portail_db_commit(db) == 0 ? 1 : -1;
        portail_pool_release(db);
        job_log("error", id, r->name, "failed for good: lease expired after %d attempts", attempts);
        return rc;
    }
    char owner[OWNER_MAX + 1];
    snprintf(owner, sizeof owner, "%s", w->owner);
    long long n = portail_db_exec(db,
                                  "UPDATE jobs SET state = 'running', attempts = attempts + 1, "
                                  "lease_until = UTC_TIMESTAMP() + INTERVAL ? SECOND, "
                                  "run_at = UTC_TIMESTAMP() + INTERVAL ? SECOND, "
                                  "lease_owner = ?, updated_at = UTC_TIMESTAMP() WHERE id = ?",
                                  "iisl", r->lease_s, r->lease_s, owner, (long long)id);
    if (n != 1 || portail_db_commit(db) != 0) {
        portail_pool_release(db);
        return -1;
    }
    json_error_t jerr;
    const char *text = portail_row_str(row, "payload");
    json_t *payload = json_loads(text ? text : "{}", 0, &jerr);
    portail_pool_release(db);
    attempts++;

    portail_job_t job = {
        .host = h, .reg = r, .id = id, .attempt = attempts, .arena = a, .payload = payload};
    int ok;
    if (!json_is_object(payload)) {
        portail_job_set_error(&job, "payload is not a JSON object");
        ok = 0;
    } else {
        portail_arena_json(a, payload);
        ok = r->fn(&job) == 0;
        if (!ok && !job.error[0])
            portail_job_set_error(&job, "failed");
    }
    if (!json_is_object(payload))
        json_decref(payload);
    if (job.db) {
        portail_pool_release(job.db);
        job.db = NULL;
    }
    finish(h, a, r, id, owner, attempts, max_attempts, ok, job.error);
    return 1;
}

/* Queued jobs of kinds nobody here registered: said once per kind. */
static void check_unknown(portail_arena_t *a)
{
    static char *logged[MAX_LOGGED_UNKNOWN];
    static size_t nlogged = 0;
    portail_db_t *db = acquire(jw.host, a);
    if (!db)
        return;
    json_t *rows = portail_db_rows(db,
                                   "SELECT kind, COUNT(*) AS n FROM jobs WHERE state = 'queued' "
                                   "AND run_at <= UTC_TIMESTAMP() AND FIND_IN_SET(kind, ?) = 0 "
                                   "GROUP BY kind LIMIT 20",
                                   "s", reg.csv);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *kind = portail_row_str(row, "kind");
        int seen = 0;
        for (size_t k = 0; kind && k < nlogged; k++)
            seen |= strcmp(logged[k], kind) == 0;
        if (!kind || seen || nlogged >= MAX_LOGGED_UNKNOWN)
            continue;
        logged[nlogged++] = strdup(kind);
        portail_logf("warn", NULL,
                     "jobs: %lld queued job(s) of kind %s, which no enabled module here "
                     "registers: left queued for a portaild that has it",
                     portail_row_int(row, "n", 0), kind);
    }
    portail_pool_release(db);
}

static void wait_poll(int ms)
{
    struct timespec deadline;
    portail_deadline_in(&deadline, ms);
    pthread_mutex_lock(&jw.mu);
    while (!atomic_load(&jobs_stop) &&
           pthread_cond_timedwait(&jw.cv, &jw.mu, &deadline) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&jw.mu);
}

static void *worker_main(void *arg)
{
    job_worker_t *w = arg;
    mysql_thread_init();
    portail_arena_t *a = portail_arena_new(64 * 1024);
    time_t last_check = 0;
    bool down_logged = false;
    while (!atomic_load(&jobs_stop)) {
        int rc = run_one(w, a);
        portail_arena_reset(a);
        if (rc < 0 && !down_logged)
            portail_logf("warn", NULL, "jobs: worker %d cannot claim (database?), will retry",
                         w->index);
        down_logged = rc < 0;
        if (w->index == 0 && time(NULL) - last_check >= UNKNOWN_CHECK_S) {
            last_check = time(NULL);
            check_unknown(a);
            portail_arena_reset(a);
        }
        if (rc != 1)
            wait_poll(jw.host->conf->jobs_poll_ms);
    }
    portail_arena_free(a);
    mysql_thread_end();
    return NULL;
}

/* The recurring core jobs: one row each whatever the number of portaild,
 * thanks to unique_key. */
static int schedule_core(portail_host_t *h)
{
    portail_arena_t *a = portail_arena_new(4096);
    portail_db_t *db = acquire(h, a);
    long long n = -1;
    if (db) {
        n = portail_db_exec(db,
                            "INSERT IGNORE INTO jobs (kind, module, run_at, payload, "
                            "max_attempts, unique_key) VALUES ('core.purge', 'core', "
                            "UTC_TIMESTAMP(), '{}', 3, 'core.purge')",
                            "");
        portail_pool_release(db);
    }
    portail_arena_free(a);
    return n < 0 ? -1 : 0;
}

int portail_jobs_start(portail_host_t *h)
{
    int n = h->conf->jobs_workers;
    if (n <= 0)
        return 0;
    /* The database may be down at start: the purge is then scheduled by
     * the next portaild start, or by another portaild. */
    if (schedule_core(h) < 0)
        portail_logf("warn", NULL, "jobs: could not schedule core.purge (database?)");
    if (portail_cond_init_monotonic(&jw.cv) != 0)
        return -1;
    jw.host = h;
    jw.workers = calloc((size_t)n, sizeof(*jw.workers));
    if (!jw.workers)
        return -1;
    jw.n = n;
    jw.running = true;
    atomic_store(&jobs_stop, false);
    char host[64] = "host";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    unsigned char rnd[4];
    randombytes_buf(rnd, sizeof rnd);
    for (int i = 0; i < n; i++) {
        job_worker_t *w = &jw.workers[i];
        w->index = i;
        snprintf(w->owner, sizeof w->owner, "%.64s:%ld:%d:%02x%02x%02x%02x", host, (long)getpid(),
                 i, rnd[0], rnd[1], rnd[2], rnd[3]);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            portail_logf("error", NULL, "jobs: cannot start worker threads");
            return -1;
        }
        w->started = true;
    }
    portail_logf("info", NULL, "jobs: %d workers, %zu kinds", n, reg.n);
    return 0;
}

void portail_jobs_signal_stop(void)
{
    if (!jw.running)
        return;
    pthread_mutex_lock(&jw.mu);
    atomic_store(&jobs_stop, true);
    pthread_cond_broadcast(&jw.cv);
    pthread_mutex_unlock(&jw.mu);
}

int portail_jobs_stop(int grace_s)
{
    if (!jw.running)
        return 0;
    pthread_mutex_lock(&jw.mu);
    atomic_store(&jobs_stop, true);
    pthread_cond_broadcast(&jw.cv);
    pthread_mutex_unlock(&jw.mu);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += grace_s;
    int left = 0;
    for (int i = 0; i < jw.n; i++) {
        if (!jw.workers[i].started)
            continue;
        if (pthread_timedjoin_np(jw.workers[i].thread, NULL, &deadline) != 0)
            left++;
    }
    if (left) {
        /* Their jobs stay running until the lease passes, then run again. */
        portail_logf("warn", NULL, "jobs: %d job(s) still running: abandoned to their lease", left);
        return -1;
    }
    free(jw.workers);
    jw.workers = NULL;
    jw.running = false;
    pthread_cond_destroy(&jw.cv);
    return 0;
}

/* ---- core.purge ------------------------------------------------------------------------ */

static long long purge(portail_db_t *db, const char *what, const char *sql, const char *fmt,
                       int arg)
{
    long long total = 0;
    for (int i = 0; i < PURGE_ROUNDS; i++) {
        long long n = strcmp(fmt, "iii") == 0 ? portail_db_exec(db, sql, fmt, arg, arg, PURGE_BATCH)
                      : *fmt                  ? portail_db_exec(db, sql, fmt, arg, PURGE_BATCH)
                                              : portail_db_exec(db, sql, "i", PURGE_BATCH);
        if (n < 0)
            return -1;
        total += n;
        if (n < PURGE_BATCH)
            break;
    }
    if (total > 0)
        portail_logf("info", NULL, "purged %lld %s", total, what);
    return total;
}

/* Documents are large rows (up to documents.max_file_bytes each): small
 * batches, so that one DELETE neither holds locks long nor fills the undo
 * log. */
static long long purge_documents(portail_db_t *db, int keep_days)
{
    long long total = 0;
    for (int i = 0; i < 200; i++) {
        long long n = portail_db_exec(db,
                                      "DELETE FROM documents WHERE created_at < UTC_TIMESTAMP() - "
                                      "INTERVAL ? DAY LIMIT 20",
                                      "i", keep_days);
        if (n < 0)
            return -1;
        total += n;
        if (n < 20)
            break;
    }
    if (total > 0)
        portail_logf("info", NULL, "purged %lld documents", total);
    return total;
}

/* Retention: rows that no request can use any more. Each table is purged
 * in bounded batches so that no statement holds locks for long. */
static int purge_job(portail_job_t *job)
{
    portail_db_t *db = portail_job_db(job);
    if (!db)
        return -1;
    const portail_conf_t *c = job->host->conf;
    /* Dead sessions are already refused by portail_session_load; this only
     * keeps the table small. */
    if (purge(db, "expired sessions",
              "DELETE FROM sessions WHERE expires_at <= UTC_TIMESTAMP() LIMIT ?", "", 0) < 0 ||
        /* A revocation reason outlives its session only as long as the
         * session could have been used (sql/015_session_revocations.sql). */
        purge(db, "session revocations",
              "DELETE FROM session_revocations WHERE expires_at <= UTC_TIMESTAMP() LIMIT ?", "",
              0) < 0 ||
        purge(db, "throttle windows",
              "DELETE FROM throttle WHERE window_start < UTC_TIMESTAMP() - INTERVAL ? HOUR "
              "LIMIT ?",
              "ii", c->jobs_throttle_keep_h) < 0 ||
        /* A grace period (a day by default), so that a late click still
         * reads "already used" or "expired" rather than "unknown". */
        purge(db, "one-time tokens",
              "DELETE FROM one_time_tokens WHERE expires_at < UTC_TIMESTAMP() - INTERVAL ? DAY "
              "OR used_at < UTC_TIMESTAMP() - INTERVAL ? DAY LIMIT ?",
              "iii", c->jobs_tokens_keep_days) < 0 ||
        /* Sessions dead by idleness are refused at load too; their
         * addresses and user agents need not wait for expires_at. */
        purge(db, "idle sessions",
              "DELETE FROM sessions WHERE last_seen_at < UTC_TIMESTAMP() - INTERVAL ? SECOND "
              "LIMIT ?",
              "ii", c->session_idle_s) < 0 ||
        purge(db, "security events",
              "DELETE FROM security_events WHERE created_at < UTC_TIMESTAMP() - INTERVAL ? DAY "
              "LIMIT ?",
              "ii", c->jobs_events_keep_days) < 0 ||
        purge(db, "finished jobs",
              "DELETE FROM jobs WHERE state IN ('done', 'cancelled') "
              "AND updated_at < UTC_TIMESTAMP() - INTERVAL ? DAY LIMIT ?",
              "ii", c->jobs_keep_days) < 0 ||
        purge(db, "sent mails",
              "DELETE FROM mail_outbox WHERE sent_at < UTC_TIMESTAMP() - INTERVAL ? DAY LIMIT ?",
              "ii", c->mail_keep_days) < 0 ||
        purge_documents(db, c->docs_keep_days) < 0) {
        portail_job_set_error(job, "purge: database error");
        return -1;
    }
    return 0;
}

/* ---- back office routes ------------------------------------------------------------------ */

static const char *const job_states[] = {"queued", "running", "done", "failed", "cancelled", NULL};

static void jobs_list(portail_ctx_t *ctx)
{
    const char *state = portail_req_query(ctx, "state");
    const char *kind = portail_req_query(ctx, "kind");
    json_t *errors = NULL;
    if (state && *state) {
        int ok = 0;
        for (const char *const *s = job_states; *s; s++)
            ok |= strcmp(*s, state) == 0;
        if (!ok)
            portail_field_error(&errors, "state", TXT_JOBS_ETAT_INCONNU);
    } else {
        state = NULL;
    }
    if (kind && *kind) {
        if (!kind_name_ok(kind))
            portail_field_error(&errors, "kind", TXT_JOBS_TYPE_TRAVAIL_MAL_FORME);
    } else {
        kind = NULL;
    }
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    long long limit, cursor;
    if (portail_query_int(ctx, "limit", 1, LIST_MAX, 50, &limit) < 0 ||
        portail_query_int(ctx, "cursor", 0, INT64_MAX, 0, &cursor) < 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *rows = portail_db_rows(db,
                                   "SELECT id, kind, module, state, attempts, max_attempts, "
                                   "run_at, lease_until, last_error, created_at, updated_at "
                                   "FROM jobs WHERE (? IS NULL OR state = ?) "
                                   "AND (? IS NULL OR kind = ?) AND (? = 0 OR id < ?) "
                                   "ORDER BY id DESC LIMIT ?",
                                   "sssslll", state, state, kind, kind, cursor, cursor, limit);
    if (!rows) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    size_t n = json_array_size(rows);
    json_t *next = json_null();
    if ((long long)n == limit && n > 0)
        next = json_integer(portail_row_int(json_array_get(rows, n - 1), "id", 0));
    portail_respond_json(ctx, 200, json_pack("{s:O, s:o}", "jobs", rows, "next_cursor", next));
}

static void jobs_change(portail_ctx_t *ctx, int retry)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) < 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int rc = retry ? portail_job_retry(db, id) : portail_job_cancel(db, id);
    if (rc < 0) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    if (rc == 0) {
        json_t *row = portail_db_row(db, "SELECT state FROM jobs WHERE id = ?", "l", (long long)id);
        if (!row)
            portail_problem(ctx, 404, NULL, TXT_JOBS_TRAVAIL_INCONNU);
        else
            portail_problem(ctx, 409, NULL,
                            retry ? TXT_JOBS_RELANCE_IMPOSSIBLE : TXT_JOBS_ANNULATION_IMPOSSIBLE);
        return;
    }
    portail_log_info(ctx, "job %lld %s by agent %lld", (long long)id,
                     retry ? "queued again" : "cancelled", (long long)portail_principal(ctx)->id);
    portail_respond_json(
        ctx, 200,
        json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", retry ? "queued" : "cancelled"));
}

static void jobs_retry(portail_ctx_t *ctx)
{
    jobs_change(ctx, 1);
}

static void jobs_cancel(portail_ctx_t *ctx)
{
    jobs_change(ctx, 0);
}

static const portail_route_t job_routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/jobs",
     .handler = jobs_list,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "jobs.read"},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/jobs/{id}/retry",
     .handler = jobs_retry,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "jobs.write"},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/backoffice/jobs/{id}/cancel",
     .handler = jobs_cancel,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "jobs.write"},
    {0},
};

int portail_jobs_add_routes(portail_router_t *r, char *err, size_t errlen)
{
    for (const portail_route_t *rt = job_routes; rt->pattern; rt++)
        if (portail_router_add(r, rt, NULL, err, errlen) < 0)
            return -1;
    return 0;
}
