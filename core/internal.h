/* Types and functions shared inside the host (core/ sources, portaild,
 * portailctl). Modules never include this: their API is portail/portail.h. */
#ifndef PORTAIL_INTERNAL_H
#define PORTAIL_INTERNAL_H

#include <libconfig.h>
#include <pthread.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "portail/portail.h"

typedef struct portail_kv {
    const char *key;
    const char *value;
} portail_kv_t;

/* ---- arena.c -------------------------------------------------------------- */
/* jansson's allocator, set once in main before any thread or jansson call;
 * then the values the calling thread makes until portail_arena_reset(a)
 * live in a (portail_arena_json_begin). */
void portail_arena_json_setup(void);
void portail_arena_json_begin(portail_arena_t *a);
/* Length (1 to 4) of the valid UTF-8 sequence at p (n bytes available), or
 * 0 when p starts an invalid, overlong or truncated one. */
size_t portail_utf8_seq(const unsigned char *p, size_t n);

/* ---- parse.c: request parsing, pure functions over the arena ------------ */
/* Percent-decodes s[0..len); with form != 0 '+' means space. NULL on a bad
 * escape, an embedded NUL or a result that is not valid UTF-8. */
char *portail_url_decode(portail_arena_t *a, const char *s, size_t len, int form);
/* "a=1&b=2" -> pairs (decoded). Count, or -1 when malformed or more than max. */
int portail_parse_urlencoded(portail_arena_t *a, const char *s, size_t len, size_t max,
                             portail_kv_t **out);
/* Cookie header -> pairs (values not decoded). Count, or -1 when over max. */
int portail_parse_cookies(portail_arena_t *a, const char *header, size_t max, portail_kv_t **out);
typedef struct portail_multipart_limits {
    size_t max_parts;
    size_t max_part_bytes;
    size_t max_part_header_bytes;
} portail_multipart_limits_t;
/* 0 ok, -1 malformed (400), -2 over a limit (413); *err says why, in French. */
int portail_parse_multipart(portail_arena_t *a, const char *content_type, const unsigned char *body,
                            size_t len, const portail_multipart_limits_t *lim, portail_part_t **out,
                            size_t *count, const char **err);
/* Case-insensitive media type check ignoring parameters:
 * ("application/json; charset=utf-8", "application/json") -> 1. */
int portail_media_type_is(const char *content_type, const char *type);
/* Value of a parameter of a header value (boundary, charset), arena copy, unquoted. */
char *portail_header_param(portail_arena_t *a, const char *header_value, const char *name);
const char *portail_kv_get(const portail_kv_t *kv, size_t n, const char *key, int nocase);

/* ---- log.c: one JSON line per event -------------------------------------- */
int portail_log_open(const char *path); /* "-" or NULL: stderr */
void portail_log_reopen(void);          /* SIGHUP */
void portail_log_close(void);
/* level: "info", "warn", "error". request_id may be NULL. */
void portail_logf(const char *level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void portail_vlogf(const char *level, const char *request_id, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Appends s to a JSON string being built, escaping quotes, backslashes and
 * every control character. Writes at most cap-1 bytes; returns new length. */
size_t portail_json_escape(char *dst, size_t len, size_t cap, const char *s);
/* Writes a complete line (with its newline) in one write. */
void portail_log_raw(const char *line, size_t len);
/* An access line: buffered per thread (see log.c) unless buffering is off. */
void portail_log_access(const char *line, size_t len);
void portail_log_buffering(int on);
/* Writes every thread's buffered access lines. */
void portail_log_flush(void);
/* "2026-11-27T10:00:00.123Z"; returns its length. */
size_t portail_log_time(char *buf, size_t cap);

/* ---- pool.c / db.c: MariaDB pool and typed helpers ----------------------- */
typedef struct portail_pool portail_pool_t;
typedef struct portail_pool_conf {
    const char *socket; /* unix socket, preferred when set */
    const char *host;
    unsigned port;
    const char *user;
    const char *password;
    const char *database;
    unsigned size;               /* connections */
    unsigned acquire_timeout_ms; /* wait for a free connection */
    unsigned connect_timeout_s;
    unsigned stmt_cache; /* prepared statements kept per connection */
    bool galera;         /* wsrep_sync_wait=1 on every connection (docs/scaling.md) */
} portail_pool_conf_t;

/* Connections are opened lazily, so the host starts even while the server is
 * down and recovers when it comes back. */
portail_pool_t *portail_pool_new(const portail_pool_conf_t *conf);
void portail_pool_free(portail_pool_t *p);
/* PORTAIL_POOL_OK, _EXHAUSTED (no free connection in time), _UNREACHABLE. */
enum { PORTAIL_POOL_OK = 0, PORTAIL_POOL_EXHAUSTED = 1, PORTAIL_POOL_UNREACHABLE = 2 };
/* request_id tags the error logs; arena owns returned rows. */
portail_db_t *portail_pool_acquire(portail_pool_t *p, portail_arena_t *arena,
                                   const char *request_id, unsigned timeout_ms, int *why);
/* ROLLBACK if a transaction is open, then back to the pool. */
void portail_pool_release(portail_db_t *db);
typedef struct portail_pool_stats {
    unsigned size, in_use, waiting;
    unsigned long long waits, wait_us, exhausted;
} portail_pool_stats_t;
void portail_pool_stats(portail_pool_t *p, portail_pool_stats_t *st);
/* Runs a statement without preparing (migrations, DDL). Multi-statement
 * text allowed. 0 or -1 with err filled. */
int portail_db_run_script(portail_db_t *db, const char *sql, char *err, size_t errlen);

/* ---- template.c: the mail templates, read once at start ------------------ */
/* Reads and checks every template of dir (syntax, subject line, the core's
 * own templates and the signature present). 0 or -1 with the reason. */
int portail_templates_load(const char *dir, const char *fund_name, const char *origin, char *err,
                           size_t errlen);
void portail_templates_free(void);
int portail_templates_has(const char *name);
/* The brand's name and phone for the mails ({{brand_name}}, {{phone}}),
 * after portail_templates_load. 0 or -1 (out of memory). */
int portail_templates_brand(const char *brand_name, const char *phone);

/* ---- config.c ------------------------------------------------------------ */
typedef struct portail_module_conf {
    const char *name;
    const char *path; /* .so path, relative to server.module_dir */
    const char *dir;  /* the module's data folder (sql/...); NULL: data_dir/modules/NAME */
    bool enabled;
    config_setting_t *settings; /* may be NULL */
    int line;
} portail_module_conf_t;

/* ---- netacl.c ------------------------------------------------------------ */
#define PORTAIL_NETS_MAX 64
typedef struct portail_net {
    int family; /* 4 or 6 */
    int prefix;
    unsigned char addr[16];
} portail_net_t;
/* "10.0.0.0/8, ::1" (spaces or commas) -> count, or -1 with the bad entry. */
int portail_nets_parse(const char *spec, portail_net_t *out, size_t max, char *bad, size_t badlen);
/* 1 when ip falls in one of the networks, or when there are none. */
int portail_nets_match(const portail_net_t *nets, size_t n, const char *ip);
/* 0 for a path with an encoded slash or backslash (%2F, %5C), or a "." or ".."
 * segment (raw or percent-encoded); 1 otherwise. */
int portail_path_clean(const char *path);

typedef struct portail_conf {
    config_t cfg;
    const char *file;
    /* server */
    const char *listen; /* "/path/to.sock" or "127.0.0.1:9000" */
    int socket_mode;
    int threads;
    int backlog;
    int grace_seconds;
    const char *log_path;
    bool log_buffer; /* access lines buffered per thread, flushed each second */
    const char *module_dir;
    const char *origin;   /* allowed Origin of state-changing requests */
    int max_header_bytes; /* all headers of a request together */
    int max_cookie_bytes;
    int hash_slots;              /* concurrent password hashes, 0: CPU count */
    int hash_wait_ms;            /* longest wait for a slot, 0: refused at once */
    int hash_queue;              /* requests waiting for a slot at most */
    int signin_rate;             /* nginx's sign-ins a second (0 read: 25 a slot) */
    const char *password_dict;   /* cracklib dictionary prefix (.pwd/.pwi/.hwm) */
    const char *secret_key_file; /* 32 bytes sealing secrets at rest (TOTP) */
    const char *data_dir;        /* sql/ of the core, modules/NAME/ of each module */
    const char *fund_name;       /* "votre caisse d'Assurance Maladie", in mails */
    int summary_budget_ms;       /* time a dashboard summary may take (host.c) */
    /* pdf (core/pdf.c) */
    const char *pdf_address; /* lines separated by "\n" */
    const char *pdf_logo;    /* PNG, "" for none */
    const char *pdf_font, *pdf_font_bold;
    portail_net_t backoffice_nets[PORTAIL_NETS_MAX]; /* empty: any client */
    size_t nbackoffice_nets;
    /* The GET /metrics listener (forms of listen); "": none. */
    const char *metrics_socket;
    /* database */
    portail_pool_conf_t db;
    /* sessions */
    int session_idle_s;
    int session_absolute_s;
    int session_touch_s;
    int session_partial_s; /* password done, second factor pending */
    /* mail */
    const char *mail_transport; /* "file" or "smtp" */
    const char *mail_dir;
    const char *smtp_url;
    const char *mail_from;
    int mail_max_attempts;
    int mail_retry_s;
    int mail_poll_ms;
    int mail_alert_after_s; /* undelivered mail older than this: alert */
    /* jobs (core/jobs.c) */
    int jobs_workers; /* 0: this portaild runs no jobs */
    int jobs_poll_ms;
    int jobs_backoff_s;     /* first retry; doubles each attempt */
    int jobs_backoff_max_s; /* cap */
    int jobs_purge_s;       /* core.purge runs this often */
    int jobs_keep_days;     /* done and cancelled jobs */
    int mail_keep_days;     /* sent mail */
    int jobs_throttle_keep_h;
    int jobs_tokens_keep_days;     /* used or expired one-time tokens */
    int jobs_events_keep_days;     /* security events */
    const char *mail_templates;    /* folder of the mail templates */
    char mail_templates_buf[1100]; /* its default, data_dir/mail */
    /* documents (core/documents.c) */
    size_t docs_max_file_bytes;
    size_t docs_max_request_bytes;
    size_t docs_max_files;
    const char *docs_scanner; /* clamd unix socket, "" for none */
    int docs_scan_timeout_ms;
    int docs_keep_days;
    /* brand (core/brand.c): header, footer, legal pages, mails */
    struct {
        const char *name;            /* "CPAM de Paris" */
        const char *logo, *logo_alt; /* path under web/, "" for none */
        int logo_width, logo_height; /* the image's own size, 0: unknown */
        const char *phone, *phone_note;
        const char *contact_url;  /* "" for none */
        bool state_service;       /* République française block and Marianne */
        const char *partials_dir; /* rendered fragments, "" for none */
    } brand;
    /* modules */
    portail_module_conf_t *modules;
    size_t nmodules;
} portail_conf_t;

/* ---- pdf.c ----------------------------------------------------------------- */
/* Once at start: 0, or -1 when a font or the logo cannot be read. */
int portail_pdf_configure(const char *fund_name, const char *address, const char *logo,
                          const char *font, const char *font_bold, char *err, size_t errlen);

/* ---- notify.c -------------------------------------------------------------- */
typedef struct portail_router portail_router_t;
int portail_notify_add_routes(portail_router_t *r, char *err, size_t errlen);
/* Unread notifications of a member, -1 on error. */
long long portail_notify_unread(portail_db_t *db, int64_t member_id);

/* ---- migrate.c ----------------------------------------------------------- */
/* The module's data folder (its sql/ inside): `dir` of its config entry, or
 * server.data_dir/modules/NAME. 0, or -1 when it does not fit. */
int portail_module_data_dir(const portail_conf_t *c, const portail_module_conf_t *m, char *buf,
                            size_t len);
/* Applies what is not applied yet: core_dir (NULL: data_dir/sql), then each
 * enabled module's sql/, under a database lock waited for at most wait_s.
 * Prints one line per owner or file on out. 0, or -1 with one line in err. */
/* Runs each enabled module's <dir>/seed.sql (demo data, idempotent). 0 or -1. */
int portail_seed_modules(portail_db_t *db, const portail_conf_t *c, FILE *out, char *err,
                         size_t errlen);
int portail_migrate(portail_db_t *db, const portail_conf_t *c, const char *core_dir, int wait_s,
                    FILE *out, char *err, size_t errlen);
/* 0 when every file of the core and of the enabled modules is recorded with
 * its checksum; -1 with the first one that is not in err. */
int portail_migrate_check(portail_db_t *db, const portail_conf_t *c, char *err, size_t errlen);

/* 0 ok; -1 with "file:line: message" in err. */
int portail_conf_load(portail_conf_t *c, const char *path, char *err, size_t errlen);
void portail_conf_free(portail_conf_t *c);

struct portail_settings {
    const portail_setting_t *schema;
    const config_setting_t *group; /* may be NULL: every default */
};
/* Checks a module's settings group against its schema (types, ranges,
 * choices, unknown names). 0 or -1 with "file:line: message". */
int portail_settings_validate(const portail_settings_t *s, const char *file, const char *module,
                              char *err, size_t errlen);

/* ---- loader.c / router.c ------------------------------------------------- */
typedef struct portail_loaded_module {
    const portail_module_t *desc;
    void *handle;
    void *state;
    bool enabled;
    bool initialised;
    portail_settings_t settings;
} portail_loaded_module_t;

typedef struct portail_router portail_router_t;
typedef struct portail_match {
    const portail_route_t *route;
    const portail_loaded_module_t *module;
    portail_kv_t *params;
    size_t nparams;
    unsigned allowed; /* methods of every route matching the path (for 405) */
} portail_match_t;

portail_router_t *portail_router_new(void);
void portail_router_free(portail_router_t *r);
/* 0, or -1 with err (duplicate method+pattern, bad pattern). */
int portail_router_add(portail_router_t *r, const portail_route_t *route,
                       const portail_loaded_module_t *m, char *err, size_t errlen);
/* 0 found; 404 no path; 405 path but not method (m->allowed set). */
int portail_router_match(const portail_router_t *r, portail_arena_t *a, const char *method,
                         const char *path, portail_match_t *m);
/* Every route in the order added (portailctl routes: the scanners' list). */
void portail_router_each(const portail_router_t *r,
                         void (*fn)(const portail_route_t *route, const portail_loaded_module_t *m,
                                    void *arg),
                         void *arg);
/* "GET, HEAD, POST" */
const char *portail_methods_str(portail_arena_t *a, unsigned methods);

/* Loads every module of the config (disabled ones are loaded and checked
 * but neither initialised nor routed). 0 or -1 with a one-line err. */
int portail_modules_load(const portail_conf_t *c, portail_router_t *r,
                         portail_loaded_module_t **out, size_t *n, char *err, size_t errlen);
void portail_modules_unload(portail_loaded_module_t *m, size_t n);

/* ---- brand.c: the brand's fragments for the pages' header and footer ---- */
/* Writes the fragments into brand.partials_dir ("" : nothing to do) from
 * the brand group and the enabled modules' member menu. 0 or -1 (*err). */
/* Makes the texts that name the brand's phone (portail_call_fund). At
 * start, before any thread. */
void portail_brand_texts(const portail_conf_t *c);
/* brand.phone as written ("" when none), and in *tel (may be NULL) as a
 * tel: link dials it ("3646"). */
const char *portail_brand_phone(const char **tel);
int portail_brand_render(const portail_conf_t *c, const portail_loaded_module_t *mods, size_t n,
                         char *err, size_t errlen);

/* ---- permission.c: permissions, roles, cross-module checks ---------------- */
/* [a-z0-9_.]{1,64}: permission names and audit actions. */
int portail_permission_name_ok(const char *s);
/* The permissions the core declares (audit.read, jobs.read, jobs.write,
 * members.read, members.lock), {0}-terminated. */
extern const portail_permission_t portail_core_permissions[];
/* After every module is loaded: permissions unique across the core and the
 * modules, route and nav permissions declared, job kinds unique, then the
 * config's `roles` (or the defaults) resolved. 0 or -1 with file:line. */
int portail_access_build(const portail_conf_t *c, const portail_loaded_module_t *mods, size_t n,
                         char *err, size_t errlen);
void portail_access_free(void);
/* The permissions of a role as a new JSON array of names (empty when the
 * role is unknown). */
json_t *portail_role_permissions(const char *role);
int portail_role_permits(const char *role, const char *permission);
/* The declared description of a permission (its name when it has none). */
const char *portail_permission_description(const char *name);

/* ---- host ----------------------------------------------------------------- */
typedef struct portail_host {
    portail_conf_t *conf;
    portail_pool_t *pool;
    portail_router_t *router;
    portail_loaded_module_t *modules;
    size_t nmodules;
    volatile sig_atomic_t stopping;
} portail_host_t;

extern portail_host_t *portail_the_host;

/* host.c */
struct FCGX_Request;
int portail_host_add_core_routes(portail_router_t *r, char *err, size_t errlen);
/* Everything portaild checks before it serves, on h->conf (loaded): mail
 * templates, PDF files, the router with the core's and the modules' routes,
 * the modules (init run) and their job kinds. Shared with portailctl
 * check-config, so that both refuse the same configs. 0, or -1 with one
 * line in err; portail_host_unload releases what was loaded either way. */
int portail_host_load(portail_host_t *h, char *err, size_t errlen);
void portail_host_unload(portail_host_t *h);
/* ---- file.c ------------------------------------------------------------------ */
/* The whole file at path, malloc'd and NUL-terminated (*len bytes before
 * the NUL), or NULL: unreadable (errno), or longer than max (*too_big 1). */
char *portail_file_read(const char *path, size_t max, size_t *len, int *too_big);
/* n bytes of s to f as HTML text or attribute value (& < > " ' escaped):
 * the brand's fragments (brand.c) and the mails' HTML part (outbox.c). */
void portail_html_write(FILE *f, const char *s, size_t n);

/* ---- clock.c: the monotonic clock -------------------------------------------- */
/* Now + ms on CLOCK_MONOTONIC, for pthread_cond_timedwait on a condition
 * made by portail_cond_init_monotonic. */
void portail_deadline_in(struct timespec *deadline, long ms);
/* Milliseconds left until deadline (negative once past). */
long portail_ms_until(const struct timespec *deadline);
/* Microseconds since t0 (CLOCK_MONOTONIC), 0 if t0 is in the future. */
unsigned long long portail_us_since(const struct timespec *t0);
/* A condition variable timed on CLOCK_MONOTONIC. 0, or -1. */
int portail_cond_init_monotonic(pthread_cond_t *cv);

/* Parses ctx->body[0..body_len) (NUL-terminated) of media type got
 * (PORTAIL_CT_JSON, _FORM or _MULTIPART; cap: the route's body limit) into
 * ctx->json, form or parts. 0, or -1 with the problem set (400, 413). */
int portail_body_decode(portail_ctx_t *ctx, unsigned got, size_t cap);
/* Marks the writer failed (core/http.c): its answer becomes a 500. */
void portail_jw_fail(portail_jw_t *w);
/* A key rendered once ("key": with its escapes) into the arena, NULL when
 * not worth it; written again and again by portail_jw_key_raw. */
char *portail_jw_key_text(portail_arena_t *a, const char *key, size_t *len);
int portail_jw_key_raw(portail_jw_t *w, const char *text, size_t len);
/* Serves one accepted request, finishes it and resets the arena. */
void portail_host_serve(portail_host_t *h, struct FCGX_Request *req, portail_arena_t *arena);

/* ---- metrics.c: GET /metrics on its own listener ---------------------------- */
#define PORTAIL_METRICS_BUCKETS 11
void portail_metrics_start(void);
/* Once per request, lock-free: route and module NULL for an unmatched one. */
void portail_metrics_record(const portail_host_t *h, const portail_route_t *route,
                            const portail_loaded_module_t *module, const char *method, int status,
                            double ms);
/* The whole exposition (text format 0.0.4); arena for the backlog queries. */
int portail_metrics_write(FILE *out, const portail_host_t *h, portail_arena_t *arena);
/* A label value escaped: backslash, double quote and newline. */
void portail_metrics_label(FILE *out, const char *s);
/* password.c: hashes running now. */
int portail_password_hashes_busy(void);

#define PORTAIL_SESSION_COOKIE "__Host-portail_session"

struct portail_resp_header {
    const char *name;
    const char *value;
    struct portail_resp_header *next;
};

struct portail_ctx {
    portail_arena_t *arena;
    portail_host_t *host;
    /* request */
    const char *method;
    bool is_head;
    const char *path;
    const char *query_string;
    portail_kv_t *query;
    size_t nquery;
    portail_kv_t *headers; /* lower-case names, '-' not '_' */
    size_t nheaders;
    portail_kv_t *cookies;
    size_t ncookies;
    portail_kv_t *params;
    size_t nparams;
    portail_kv_t *form;
    size_t nform;
    portail_part_t *parts;
    size_t nparts;
    const char *content_type;
    const char *content_length; /* as sent; checked against the route's cap */
    unsigned char *body;
    size_t body_len;
    json_t *json;
    char request_id[33];
    portail_client_t client;
    portail_principal_t principal;
    const char *csrf_token; /* of the current session */
    /* The session the request carried was revoked from elsewhere:
     * "other_device", "agent" or NULL (core/session.c); 401 answers say it. */
    const char *signed_out;
    /* route */
    const portail_loaded_module_t *module;
    const portail_route_t *route;
    /* database, acquired lazily */
    portail_db_t *db;
    /* response */
    int status;
    const char *resp_type;
    const void *resp_body;
    size_t resp_len;
    struct portail_resp_header *resp_headers;
    json_t *problem; /* last problem body, for portail_problem_extra */
    /* automatic audit of routes with `audit` (portail_audit_subject/reason) */
    int64_t audit_member;
    const char *audit_reason;
};

/* What a request has answered and who it is, as of a point in a handler
 * (core/http.c): portail_answer_reset puts the status, body, headers,
 * principal and session token back as they were at portail_answer_mark,
 * for a transaction rerun (portail_tx_retry) that must not keep what a
 * rolled-back attempt answered or set (a 500, a cookie of a session that
 * no longer exists). */
typedef struct portail_answer_mark {
    int status;
    const char *resp_type;
    const void *resp_body;
    size_t resp_len;
    struct portail_resp_header *last_header;
    json_t *problem;
    portail_principal_t principal;
    const char *csrf_token;
    const char *signed_out;
    int64_t audit_member;
    const char *audit_reason;
} portail_answer_mark_t;
void portail_answer_mark(const portail_ctx_t *ctx, portail_answer_mark_t *m);
void portail_answer_reset(portail_ctx_t *ctx, const portail_answer_mark_t *m);

/* Sets the request's principal from its session cookie (expiry, last-seen
 * throttle). 0 (with or without a session) or -1 on database error. */
int portail_session_load(portail_ctx_t *ctx);

/* ---- token.c: bearer secrets (session cookies, links sent by mail) -------- */
#define PORTAIL_SECRET_CHARS 43 /* base64url of 32 bytes, no padding */
#define PORTAIL_SECRET_HASH 32
void portail_secret_new(char text[PORTAIL_SECRET_CHARS + 1],
                        unsigned char hash[PORTAIL_SECRET_HASH]);
/* 0 with the hash of a well-formed secret, -1 for anything else. */
int portail_secret_hash(const char *text, unsigned char hash[PORTAIL_SECRET_HASH]);

/* ---- outbox.c: the sender thread ------------------------------------------ */
int portail_outbox_start(portail_host_t *h);
void portail_outbox_stop(void);
/* Delivers due mail once, synchronously (portailctl, tests). Count sent or -1. */
int portail_outbox_flush(portail_host_t *h);
/* Undelivered mail: how many, and the oldest's age in seconds (-1: none).
 * 0 or -1. */
int portail_outbox_backlog(portail_db_t *db, long long *count, long long *oldest_s);

/* ---- jobs.c: durable jobs ------------------------------------------------- */
/* Bounds of a job kind's max_attempts and lease_seconds (checked by the
 * loader with the rest of the descriptor). */
#define PORTAIL_JOB_ATTEMPTS_MAX 1000
#define PORTAIL_JOB_LEASE_MAX_S 86400
/* Collects the job kinds of the core and of the enabled modules (after
 * portail_modules_load). 0 or -1 with err. */
int portail_jobs_register(portail_host_t *h, char *err, size_t errlen);
void portail_jobs_unregister(void);
/* Schedules the recurring core jobs and starts conf->jobs_workers threads. */
int portail_jobs_start(portail_host_t *h);
/* Stops the workers, letting a running job finish within grace_s. 0, or -1
 * when some are still running (their jobs are abandoned to their lease; the
 * process must then exit without unloading the modules). */
int portail_jobs_stop(int grace_s);
/* Workers claim no new job from now on (SIGTERM); returns at once. */
void portail_jobs_signal_stop(void);
/* GET /api/v1/backoffice/jobs, POST .../jobs/{id}/retry and /cancel. */
int portail_jobs_add_routes(portail_router_t *r, char *err, size_t errlen);

#endif
