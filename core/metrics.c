/* Counters for GET /metrics (Prometheus text format 0.0.4). Recording runs
 * once per request on the request path: relaxed atomics in a fixed table,
 * no lock, no allocation. Series are keyed by the matched route and the
 * method (never the raw path), so their number is bounded by the routes the
 * modules declare; a request that matched no route counts under one
 * "unmatched" series. The scrape is served on its own listener (portaild.c)
 * and reads the table, the pool and the backlogs at that moment. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* Upper bounds in milliseconds; +Inf is the count. */
static const double bucket_ms[PORTAIL_METRICS_BUCKETS] = {1,   2.5, 5,   10,   25,  50,
                                                          100, 250, 500, 1000, 2500};

/* The codes the host and the modules answer with; any other counts under
 * its class ("2xx" ...), which keeps the status label bounded too. */
static const int known_status[] = {200, 201, 202, 204, 301, 302, 303, 304, 400, 401, 403, 404,
                                   405, 409, 410, 413, 415, 422, 429, 431, 500, 502, 503, 504};
#define NKNOWN (sizeof(known_status) / sizeof(known_status[0]))
#define NSTATUS (NKNOWN + 5) /* then 1xx-5xx classes for the others */

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))
#define METHOD_OTHER NMETHODS

/* Twice the routes of a large install; a full table counts the rest under
 * the last slot, labelled "overflow". */
#define NSLOTS 1024

struct slot {
    _Atomic(uintptr_t) key; /* route pointer + method + 1; 0 free */
    const portail_route_t *route;
    const portail_loaded_module_t *module;
    atomic_int ready; /* route/module written before readers look */
    unsigned method;
    atomic_ullong status[NSTATUS];
    atomic_ullong bucket[PORTAIL_METRICS_BUCKETS]; /* not cumulative here */
    atomic_ullong count;
    atomic_ullong sum_us;
};

#define MAX_MODULES 256
static struct slot slots[NSLOTS];
static atomic_ullong module_errors[MAX_MODULES + 1]; /* [MAX_MODULES]: core */
static atomic_ullong scrapes;
static time_t started;

void portail_metrics_start(void)
{
    started = time(NULL);
}

static unsigned method_index(const char *m)
{
    for (unsigned i = 0; m && i < NMETHODS; i++)
        if (strcmp(m, methods[i]) == 0)
            return i;
    return METHOD_OTHER;
}

static unsigned status_index(int status)
{
    for (unsigned i = 0; i < NKNOWN; i++)
        if (known_status[i] == status)
            return i;
    int cls = status / 100;
    if (cls < 1 || cls > 5)
        cls = 5;
    return (unsigned)(NKNOWN + (unsigned)cls - 1);
}

static struct slot *slot_for(const portail_route_t *route, const portail_loaded_module_t *module,
                             unsigned method)
{
    /* Route structs are at least pointer aligned: the low bits carry the
     * method. Unmatched requests share one key per method (route NULL). */
    uintptr_t key = ((uintptr_t)route * 16u + method) + 1u;
    size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 40) % (NSLOTS - 1);
    for (size_t probe = 0; probe < NSLOTS - 1; probe++) {
        struct slot *s = &slots[(h + probe) % (NSLOTS - 1)];
        uintptr_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == key)
            return s;
        if (k == 0) {
            uintptr_t expected = 0;
            if (atomic_compare_exchange_strong(&s->key, &expected, key)) {
                s->route = route;
                s->module = module;
                s->method = method;
                atomic_store_explicit(&s->ready, 1, memory_order_release);
                return s;
            }
            if (expected == key)
                return s;
        }
    }
    return &slots[NSLOTS - 1];
}

void portail_metrics_record(const portail_host_t *h, const portail_route_t *route,
                            const portail_loaded_module_t *module, const char *method, int status,
                            double ms)
{
    struct slot *s = slot_for(route, module, method_index(method));
    atomic_fetch_add_explicit(&s->status[status_index(status)], 1, memory_order_relaxed);
    unsigned b = 0;
    while (b < PORTAIL_METRICS_BUCKETS && ms > bucket_ms[b])
        b++;
    if (b < PORTAIL_METRICS_BUCKETS)
        atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, ms > 0 ? (unsigned long long)(ms * 1000.0) : 0,
                              memory_order_relaxed);
    if (status >= 500) {
        size_t i = MAX_MODULES;
        if (module && h && module >= h->modules && module < h->modules + h->nmodules)
            i = (size_t)(module - h->modules);
        if (i > MAX_MODULES)
            i = MAX_MODULES;
        atomic_fetch_add_explicit(&module_errors[i], 1, memory_order_relaxed);
    }
}

void portail_metrics_label(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\')
            fputs("\\\\", out);
        else if (*s == '"')
            fputs("\\\"", out);
        else if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
}

static void head(FILE *out, const char *name, const char *type, const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void series_labels(FILE *out, const struct slot *s)
{
    fputs("route=\"", out);
    if (s == &slots[NSLOTS - 1])
        fputs("overflow", out);
    else if (!s->route)
        fputs("unmatched", out);
    else
        portail_metrics_label(out, s->route->pattern);
    fprintf(out, "\",method=\"%s\",module=\"", s->method < NMETHODS ? methods[s->method] : "other");
    portail_metrics_label(out, s->module ? s->module->desc->name : "core");
    fputc('"', out);
}

static int slot_used(const struct slot *s)
{
    if (s == &slots[NSLOTS - 1])
        return atomic_load_explicit(&s->count, memory_order_relaxed) > 0;
    return atomic_load_explicit(&s->key, memory_order_acquire) != 0 &&
           atomic_load_explicit(&s->ready, memory_order_acquire);
}

static void write_requests(FILE *out)
{
    head(out, "portail_http_requests_total", "counter",
         "Requests answered, by route pattern, method, module and status.");
    for (size_t i = 0; i < NSLOTS; i++) {
        const struct slot *s = &slots[i];
        if (!slot_used(s))
            continue;
        for (unsigned k = 0; k < NSTATUS; k++) {
            unsigned long long n = atomic_load_explicit(&s->status[k], memory_order_relaxed);
            if (!n)
                continue;
            fputs("portail_http_requests_total{", out);
            series_labels(out, s);
            if (k < NKNOWN)
                fprintf(out, ",status=\"%d\"} %llu\n", known_status[k], n);
            else
                fprintf(out, ",status=\"%uxx\"} %llu\n", k - (unsigned)NKNOWN + 1, n);
        }
    }
    head(out, "portail_http_request_duration_seconds", "histogram",
         "Time from accept to the response written, by route pattern and method.");
    for (size_t i = 0; i < NSLOTS; i++) {
        const struct slot *s = &slots[i];
        if (!slot_used(s))
            continue;
        /* count first: read before the buckets, it never exceeds +Inf
         * while requests keep coming in. */
        unsigned long long count = atomic_load_explicit(&s->count, memory_order_relaxed);
        unsigned long long sum = atomic_load_explicit(&s->sum_us, memory_order_relaxed);
        unsigned long long cum = 0;
        for (unsigned b = 0; b < PORTAIL_METRICS_BUCKETS; b++) {
            cum += atomic_load_explicit(&s->bucket[b], memory_order_relaxed);
            if (cum > count)
                cum = count;
            fputs("portail_http_request_duration_seconds_bucket{", out);
            series_labels(out, s);
            fprintf(out, ",le=\"%g\"} %llu\n", bucket_ms[b] / 1000.0, cum);
        }
        fputs("portail_http_request_duration_seconds_bucket{", out);
        series_labels(out, s);
        fprintf(out, ",le=\"+Inf\"} %llu\n", count);
        fputs("portail_http_request_duration_seconds_sum{", out);
        series_labels(out, s);
        fprintf(out, "} %llu.%06llu\n", sum / 1000000ull, sum % 1000000ull);
        fputs("portail_http_request_duration_seconds_count{", out);
        series_labels(out, s);
        fprintf(out, "} %llu\n", count);
    }
}

static long long count_query(portail_db_t *db, const char *sql)
{
    /* The row belongs to the arena of the scrape. */
    json_t *row = portail_db_row(db, sql, "");
    return row ? portail_row_int(row, "n", -1) : -1;
}

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f)
        return -1;
    int n = fscanf(f, "%ld %ld", &pages, &rss);
    fclose(f);
    return n == 2 ? rss * sysconf(_SC_PAGESIZE) : -1;
}

int portail_metrics_write(FILE *out, const portail_host_t *h, portail_arena_t *arena)
{
    atomic_fetch_add_explicit(&scrapes, 1, memory_order_relaxed);
    write_requests(out);

    head(out, "portail_module_errors_total", "counter",
         "Responses of status 5xx, by the module that owns the route (core: the host's).");
    for (size_t i = 0; h && i < h->nmodules && i < MAX_MODULES; i++) {
        fputs("portail_module_errors_total{module=\"", out);
        portail_metrics_label(out, h->modules[i].desc->name);
        fprintf(out, "\"} %llu\n", atomic_load_explicit(&module_errors[i], memory_order_relaxed));
    }
    fprintf(out, "portail_module_errors_total{module=\"core\"} %llu\n",
            atomic_load_explicit(&module_errors[MAX_MODULES], memory_order_relaxed));

    portail_pool_stats_t ps = {0};
    if (h && h->pool)
        portail_pool_stats(h->pool, &ps);
    head(out, "portail_db_pool_size", "gauge", "Connections the pool may hold.");
    fprintf(out, "portail_db_pool_size %u\n", ps.size);
    head(out, "portail_db_pool_in_use", "gauge", "Connections lent to a request or job now.");
    fprintf(out, "portail_db_pool_in_use %u\n", ps.in_use);
    head(out, "portail_db_pool_waiting", "gauge", "Threads waiting for a free connection now.");
    fprintf(out, "portail_db_pool_waiting %u\n", ps.waiting);
    head(out, "portail_db_pool_waits_total", "counter",
         "Acquisitions that found no free connection and had to wait.");
    fprintf(out, "portail_db_pool_waits_total %llu\n", ps.waits);
    head(out, "portail_db_pool_wait_seconds_total", "counter",
         "Time spent waiting for a free connection.");
    fprintf(out, "portail_db_pool_wait_seconds_total %llu.%06llu\n", ps.wait_us / 1000000ull,
            ps.wait_us % 1000000ull);
    head(out, "portail_db_pool_exhausted_total", "counter",
         "Acquisitions that gave up: no free connection in time.");
    fprintf(out, "portail_db_pool_exhausted_total %llu\n", ps.exhausted);

    head(out, "portail_password_hash_slots_busy", "gauge", "Password hashes running now.");
    fprintf(out, "portail_password_hash_slots_busy %d\n", portail_password_hashes_busy());
    head(out, "portail_password_hash_slots", "gauge", "Password hashes allowed at once.");
    /* The configuration resolved 0 (automatic) to the CPU count already. */
    fprintf(out, "portail_password_hash_slots %d\n", h && h->conf ? h->conf->hash_slots : 0);

    /* The backlogs live in the database, shared by every portaild: one
     * indexed COUNT each, with a short wait for a connection so that a
     * saturated pool delays no scrape for long (portail_db_up says why the
     * gauges are missing then). */
    long long outbox = -1, oldest = -1, queued = -1, running = -1;
    portail_db_t *db = NULL;
    if (h && h->pool && arena) {
        int why = 0;
        db = portail_pool_acquire(h->pool, arena, "metrics", 250, &why);
    }
    if (db) {
        /* The health route's numbers (core/outbox.c). */
        if (portail_outbox_backlog(db, &outbox, &oldest) != 0)
            outbox = -1;
        queued =
            count_query(db, "SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued' AND run_at <= "
                            "UTC_TIMESTAMP()");
        running = count_query(db, "SELECT COUNT(*) AS n FROM jobs WHERE state = 'running'");
        portail_pool_release(db);
    }
    head(out, "portail_db_up", "gauge", "1 when the scrape could query the database.");
    fprintf(out, "portail_db_up %d\n", db && outbox >= 0 && queued >= 0 && running >= 0);
    if (outbox >= 0) {
        head(out, "portail_mail_outbox_backlog", "gauge", "Mails written and not sent yet.");
        fprintf(out, "portail_mail_outbox_backlog %lld\n", outbox);
        head(out, "portail_mail_outbox_oldest_seconds", "gauge",
             "Age of the oldest mail not sent yet (0 when none).");
        fprintf(out, "portail_mail_outbox_oldest_seconds %lld\n", oldest > 0 ? oldest : 0);
    }
    if (queued >= 0 && running >= 0) {
        head(out, "portail_jobs_backlog", "gauge", "Jobs due and not done, by state.");
        fprintf(out, "portail_jobs_backlog{state=\"queued\"} %lld\n", queued);
        fprintf(out, "portail_jobs_backlog{state=\"running\"} %lld\n", running);
    }

    long rss = rss_bytes();
    if (rss >= 0) {
        head(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        fprintf(out, "process_resident_memory_bytes %ld\n", rss);
    }
    head(out, "process_start_time_seconds", "gauge", "Start time since the Unix epoch, seconds.");
    fprintf(out, "process_start_time_seconds %lld\n", (long long)started);
    head(out, "portail_uptime_seconds", "gauge", "Seconds since portaild started.");
    fprintf(out, "portail_uptime_seconds %lld\n", (long long)(time(NULL) - started));
    head(out, "portail_metrics_scrapes_total", "counter", "Scrapes served, this one included.");
    fprintf(out, "portail_metrics_scrapes_total %llu\n",
            atomic_load_explicit(&scrapes, memory_order_relaxed));
    return ferror(out) ? -1 : 0;
}
