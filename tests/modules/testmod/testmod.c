/* A module that exercises the host for the integration tests: parsing,
 * limits, slow requests, pool holding, sessions, mail, and the account
 * security and audit services that no real module uses yet. Never enabled
 * in a real deployment. */
#include <portail/beneficiaries.h>
#include <portail/portail.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const portail_setting_t settings[] = {
    {.name = "greeting",
     .type = PORTAIL_SETTING_STRING,
     .min = 1,
     .max = 100,
     .def_str = "bonjour"},
    {.name = "max_sleep_ms", .type = PORTAIL_SETTING_INT, .min = 0, .max = 60000, .def_int = 30000},
    {0},
};

static void hello(portail_ctx_t *ctx);
static void item(portail_ctx_t *ctx);
static void echo(portail_ctx_t *ctx);
static void form(portail_ctx_t *ctx);
static void upload(portail_ctx_t *ctx);
static void slow(portail_ctx_t *ctx);
static void db_hold(portail_ctx_t *ctx);
static void db_lockpair(portail_ctx_t *ctx);
static void db_swallow(portail_ctx_t *ctx);
static void db_midresult(portail_ctx_t *ctx);
static void whoami(portail_ctx_t *ctx);
static void session_login(portail_ctx_t *ctx);
static void session_elevate(portail_ctx_t *ctx);
static void session_logout(portail_ctx_t *ctx);
static void sessions(portail_ctx_t *ctx);
static void session_revoke(portail_ctx_t *ctx);
static void mail(portail_ctx_t *ctx);
static void show_settings(portail_ctx_t *ctx);
static void file(portail_ctx_t *ctx);
static void mail_rollback(portail_ctx_t *ctx);
static void account_show(portail_ctx_t *ctx);
static void account_lock(portail_ctx_t *ctx);
static void account_unlock(portail_ctx_t *ctx);
static void account_count(portail_ctx_t *ctx);
static void account_reset(portail_ctx_t *ctx);
static void account_event(portail_ctx_t *ctx);
static void audit(portail_ctx_t *ctx);
static void account_verification(portail_ctx_t *ctx);
static void password_set(portail_ctx_t *ctx);
static void password_check(portail_ctx_t *ctx);
static void silent(portail_ctx_t *ctx);
static void beneficiaries_list(portail_ctx_t *ctx);
static void beneficiary_get(portail_ctx_t *ctx);
static void beneficiary_set(portail_ctx_t *ctx);

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/hello",
     .handler = hello,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/silent",
     .handler = silent,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET | PORTAIL_POST,
     .pattern = "/api/v1/test/items/{id}",
     .handler = item,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/items/special",
     .handler = hello,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/echo",
     .handler = echo,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = 1024,
     .content_types = PORTAIL_CT_JSON},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/form",
     .handler = form,
     .auth = PORTAIL_AUTH_PUBLIC,
     .content_types = PORTAIL_CT_FORM},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/upload",
     .handler = upload,
     .auth = PORTAIL_AUTH_PUBLIC,
     .body_max = 1024 * 1024,
     .content_types = PORTAIL_CT_MULTIPART},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/slow",
     .handler = slow,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/db/midresult",
     .handler = db_midresult,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/db",
     .handler = db_hold,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/db/lockpair",
     .handler = db_lockpair,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/db/swallow",
     .handler = db_swallow,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/member",
     .handler = whoami,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/partial",
     .handler = whoami,
     .auth = PORTAIL_AUTH_PARTIAL},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/agent",
     .handler = whoami,
     .auth = PORTAIL_AUTH_AGENT},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/default-auth",
     .handler = whoami}, /* no auth: agent only */
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/session/login",
     .handler = session_login,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/session/elevate",
     .handler = session_elevate,
     .auth = PORTAIL_AUTH_PARTIAL},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/session/logout",
     .handler = session_logout,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/sessions",
     .handler = sessions,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_DELETE,
     .pattern = "/api/v1/test/sessions/{id}",
     .handler = session_revoke,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/mail",
     .handler = mail,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/settings",
     .handler = show_settings,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/file",
     .handler = file,
     .auth = PORTAIL_AUTH_PUBLIC},
    /* enqueues a mail in a transaction, then fails: nothing may be sent */
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/mail/rollback",
     .handler = mail_rollback,
     .auth = PORTAIL_AUTH_PUBLIC},
    /* account security (core/account.c) */
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/account/{id}",
     .handler = account_show,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/account/{id}/lock",
     .handler = account_lock,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/account/{id}/unlock",
     .handler = account_unlock,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/account/{id}/count",
     .handler = account_count,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/account/{id}/reset",
     .handler = account_reset,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/account/{id}/event",
     .handler = account_event,
     .auth = PORTAIL_AUTH_PUBLIC},
    /* audit (core/audit.c): the route checks the agent level; the
     * unchecked one leaves it to portail_audit itself */
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/audit",
     .handler = audit,
     .auth = PORTAIL_AUTH_AGENT},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/audit/unchecked",
     .handler = audit,
     .auth = PORTAIL_AUTH_PUBLIC},
    /* account update awaiting confirmation (portail_account_request_verification) */
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/account/{id}/verification",
     .handler = account_verification,
     .auth = PORTAIL_AUTH_PUBLIC},
    /* a member's password, set (Argon2id, no policy) and checked, for the
     * tests that need an account with a known password */
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/account/{id}/password",
     .handler = password_set,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/account/{id}/password/check",
     .handler = password_check,
     .auth = PORTAIL_AUTH_PUBLIC},
    /* the core's beneficiaries service (portail/beneficiaries.h): a
     * member's choices, one looked up scoped to the member, a declaration
     * written as the coverage module writes one */
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/beneficiaries/{id}",
     .handler = beneficiaries_list,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/beneficiaries/{id}/{ben}",
     .handler = beneficiary_get,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/beneficiaries",
     .handler = beneficiary_set,
     .auth = PORTAIL_AUTH_PUBLIC},
    {0},
};

struct state {
    const char *greeting;
    long long max_sleep_ms;
};

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct state *st = malloc(sizeof(*st));
    if (!st)
        return -1;
    st->greeting = portail_settings_str(s, "greeting");
    st->max_sleep_ms = portail_settings_int(s, "max_sleep_ms");
    *state = st;
    return 0;
}

static void fini(void *state)
{
    free(state);
}

static void hello(portail_ctx_t *ctx)
{
    portail_respond_json(ctx, 200, json_pack("{s:s}", "hello", "world"));
}

/* A handler that forgets to answer: the host's last resort must. */
static void silent(portail_ctx_t *ctx)
{
    (void)ctx;
}

static void item(portail_ctx_t *ctx)
{
    json_t *out = json_pack("{s:s}", "id", portail_req_param(ctx, "id"));
    json_t *body = portail_req_json(ctx);
    if (body)
        json_object_set(out, "body", body);
    portail_respond_json(ctx, 200, out);
}

static void echo(portail_ctx_t *ctx)
{
    json_t *body = portail_req_json(ctx);
    portail_respond_json(ctx, 200, body ? json_incref(body) : json_null());
}

static void form(portail_ctx_t *ctx)
{
    json_t *out = json_object();
    const char *names[] = {"a", "b", "nom", "vide"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = portail_req_form(ctx, names[i]);
        if (v)
            json_object_set_new(out, names[i], json_string(v));
    }
    portail_respond_json(ctx, 200, out);
}

static void upload(portail_ctx_t *ctx)
{
    size_t n = 0;
    const portail_part_t *parts = portail_req_parts(ctx, &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list,
                              json_pack("{s:s, s:s?, s:s, s:I}", "name", parts[i].name, "filename",
                                        parts[i].filename, "content_type", parts[i].content_type,
                                        "size", (json_int_t)parts[i].len));
    portail_respond_json(ctx, 200, json_pack("{s:o}", "parts", list));
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void slow(portail_ctx_t *ctx)
{
    const struct state *st = portail_module_state(ctx);
    long long ms;
    if (portail_query_int(ctx, "ms", 0, st->max_sleep_ms, 100, &ms) < 0)
        return;
    sleep_ms(ms);
    portail_respond_json(ctx, 200, json_pack("{s:I}", "slept", (json_int_t)ms));
}

/* A statement whose error comes in the middle of its result (the
 * subquery of the third row returns two rows: error 1242 after two rows
 * were sent), run twice on one connection, then a plain query: each call's
 * errno, and the plain query's answer. */
static void db_midresult(portail_ctx_t *ctx)
{
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    const char *sql = "SELECT t.n, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE t.n = 3) AS x "
                      "FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) t";
    json_t *a = portail_db_rows(db, sql, "");
    unsigned e1 = portail_db_errno(db);
    json_t *b = portail_db_rows(db, sql, "");
    unsigned e2 = portail_db_errno(db);
    json_t *c = portail_db_row(db, "SELECT 42 AS v", "");
    portail_respond_json(ctx, 200,
                         json_pack("{s:b, s:i, s:b, s:i, s:I}", "first_ok", a != NULL,
                                   "first_errno", (int)e1, "second_ok", b != NULL, "second_errno",
                                   (int)e2, "then", (json_int_t)portail_row_int(c, "v", -1)));
}

static void db_hold(portail_ctx_t *ctx)
{
    long long ms;
    if (portail_query_int(ctx, "hold_ms", 0, 10000, 0, &ms) < 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *row = portail_db_row(db, "SELECT 1 AS one", "");
    if (!row) {
        portail_problem(ctx, 500, NULL, "SELECT 1 a échoué.");
        return;
    }
    sleep_ms(ms);
    portail_respond_json(ctx, 200,
                         json_pack("{s:I}", "one", (json_int_t)portail_row_int(row, "one", 0)));
}

/* Rows of test_locks (made by the test) locked in the order asked, with a
 * pause between: two requests in opposite orders deadlock. */
typedef struct lockpair {
    long long first, second, hold_ms, wait_s;
} lockpair_t;

static int lockpair_fn(portail_db_t *db, void *arg)
{
    const lockpair_t *lp = arg;
    if (portail_db_exec(db, "SET SESSION innodb_lock_wait_timeout = ?", "l", lp->wait_s) < 0)
        return -1;
    if (!portail_db_row(db, "SELECT id FROM test_locks WHERE id = ? FOR UPDATE", "l", lp->first))
        return -1;
    sleep_ms(lp->hold_ms);
    if (lp->second &&
        !portail_db_row(db, "SELECT id FROM test_locks WHERE id = ? FOR UPDATE", "l", lp->second))
        return -1;
    return 0;
}

/* ?first=&second=&hold_ms=&wait_s=&retry=0|1 -> {"ok", "attempts", "errno"} */
static void db_lockpair(portail_ctx_t *ctx)
{
    lockpair_t lp;
    long long retry;
    if (portail_query_int(ctx, "first", 1, 100, 1, &lp.first) < 0 ||
        portail_query_int(ctx, "second", 0, 100, 0, &lp.second) < 0 ||
        portail_query_int(ctx, "hold_ms", 0, 10000, 0, &lp.hold_ms) < 0 ||
        portail_query_int(ctx, "wait_s", 1, 50, 50, &lp.wait_s) < 0 ||
        portail_query_int(ctx, "retry", 0, 1, 1, &retry) < 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int attempts = 0, rc;
    if (retry) {
        rc = portail_db_tx_retry(db, lockpair_fn, &lp, &attempts);
    } else {
        attempts = 1;
        rc = portail_db_begin(db);
        if (rc == 0 && (rc = lockpair_fn(db, &lp)) == 0)
            rc = portail_db_commit(db);
    }
    unsigned err = portail_db_errno(db);
    if (rc != 0)
        portail_db_rollback(db);
    portail_db_exec(db, "SET SESSION innodb_lock_wait_timeout = DEFAULT", "");
    portail_respond_json(
        ctx, 200,
        json_pack("{s:b, s:i, s:i}", "ok", rc == 0, "attempts", attempts, "errno", (int)err));
}

typedef struct swallow {
    long long tag;
    int ended; /* ?ended=1 */
    int runs;
} swallow_t;

/* A marked transaction that goes on past a failed statement, as
 * portail_mail_template goes on past a failed name lookup: rows 1 and 2 of
 * the tag in test_swallow (made by the test) around one in
 * test_swallow_victim whose failure is ignored. With ended=1, the first
 * run has its transaction ended by the server in between without an error
 * to the caller (a ROLLBACK run as a statement stands for it) instead. */
static int swallow_fn(portail_db_t *db, void *arg)
{
    swallow_t *t = arg;
    if (portail_db_exec(db, "INSERT INTO test_swallow (tag, step) VALUES (?, 1)", "l", t->tag) != 1)
        return -1;
    if (!t->ended)
        (void)portail_db_exec(db, "INSERT INTO test_swallow_victim (tag) VALUES (?)", "l", t->tag);
    else if (t->runs++ == 0)
        (void)portail_db_exec(db, "ROLLBACK", "");
    if (portail_db_exec(db, "INSERT INTO test_swallow (tag, step) VALUES (?, 2)", "l", t->tag) != 1)
        return -1;
    return 0;
}

static void db_swallow(portail_ctx_t *ctx)
{
    swallow_t t = {0};
    if (portail_query_int(ctx, "tag", 1, 1000000000, 1, &t.tag) < 0)
        return;
    long long ended;
    if (portail_query_int(ctx, "ended", 0, 1, 0, &ended) < 0)
        return;
    t.ended = (int)ended;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int attempts = 0;
    int rc = portail_db_tx_retry(db, swallow_fn, &t, &attempts);
    portail_respond_json(ctx, 200,
                         json_pack("{s:b, s:i, s:i}", "ok", rc == 0, "attempts", attempts, "errno",
                                   (int)portail_db_errno(db)));
}

static void whoami(portail_ctx_t *ctx)
{
    const portail_principal_t *p = portail_principal(ctx);
    portail_respond_json(ctx, 200,
                         json_pack("{s:I, s:i}", "id", (json_int_t)p->id, "level", (int)p->level));
}

static void session_login(portail_ctx_t *ctx)
{
    json_t *body = portail_req_json(ctx);
    const char *kind = json_string_value(json_object_get(body, "kind"));
    const char *level = json_string_value(json_object_get(body, "level"));
    json_int_t id = json_integer_value(json_object_get(body, "id"));
    const char *role = json_string_value(json_object_get(body, "role"));
    if (!kind || !level || id <= 0) {
        portail_problem(ctx, 400, NULL, "kind, level et id sont requis.");
        return;
    }
    portail_principal_kind_t k =
        strcmp(kind, "agent") == 0 ? PORTAIL_PRINCIPAL_AGENT : PORTAIL_PRINCIPAL_MEMBER;
    portail_auth_t l = strcmp(level, "partial") == 0 ? PORTAIL_AUTH_PARTIAL
                       : strcmp(level, "agent") == 0 ? PORTAIL_AUTH_AGENT
                                                     : PORTAIL_AUTH_MEMBER;
    if (portail_session_start(ctx, k, id, l,
                              k == PORTAIL_PRINCIPAL_AGENT ? (role ? role : "agent") : NULL) < 0)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "ok"));
}

static void session_elevate(portail_ctx_t *ctx)
{
    if (portail_session_elevate(ctx, PORTAIL_AUTH_MEMBER) < 0)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "ok"));
}

static void session_logout(portail_ctx_t *ctx)
{
    if (portail_session_end(ctx) < 0)
        return;
    portail_respond_empty(ctx, 204);
}

static void sessions(portail_ctx_t *ctx)
{
    json_t *list = portail_sessions_list(ctx);
    if (!list) {
        if (!portail_responded(ctx))
            portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:O}", "sessions", list));
}

static void session_revoke(portail_ctx_t *ctx)
{
    char *end = NULL;
    long long id = strtoll(portail_req_param(ctx, "id"), &end, 10);
    if (*end || id <= 0) {
        portail_problem(ctx, 404, NULL, "Session introuvable.");
        return;
    }
    int rc = portail_session_revoke(ctx, id);
    if (rc == 0)
        portail_respond_empty(ctx, 204);
    else if (rc == 1)
        portail_problem(ctx, 404, NULL, "Session introuvable.");
    else
        portail_problem(ctx, 500, NULL, NULL);
}

static void mail(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    json_t *body = portail_req_json(ctx);
    const char *to = portail_json_str(body, "to", 3, 254, &errors);
    const char *subject = portail_json_str(body, "subject", 1, 200, &errors);
    const char *text = portail_json_str(body, "body", 1, 10000, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    if (portail_mail_enqueue(db, to, subject, text) < 0) {
        /* refused input (recipient, subject) is the caller's fault */
        if (portail_db_failed(db))
            portail_problem(ctx, 500, NULL, NULL);
        else
            portail_problem(ctx, 422, NULL, "Courriel refusé par la file d'envoi.");
        return;
    }
    portail_respond_json(ctx, 202, json_pack("{s:s}", "status", "queued"));
}

static void show_settings(portail_ctx_t *ctx)
{
    const struct state *st = portail_module_state(ctx);
    portail_respond_json(ctx, 200,
                         json_pack("{s:s, s:I}", "greeting", st->greeting, "max_sleep_ms",
                                   (json_int_t)st->max_sleep_ms));
}

static void file(portail_ctx_t *ctx)
{
    static const unsigned char data[] = {0x25, 0x50, 0x44, 0x46, 0x00, 0x01, 0xff, 0x0a};
    portail_respond_file(ctx, 200, "application/pdf", data, sizeof(data), "attestation droits.pdf");
}

/* ---- mail in a rolled-back transaction ---------------------------------- */

/* {to, subject, body}: enqueued inside a transaction that the handler then
 * abandons (explicit ROLLBACK with "explicit": true, else the pool's ROLLBACK
 * at release). Answers 409. */
static void mail_rollback(portail_ctx_t *ctx)
{
    json_t *errors = NULL;
    json_t *body = portail_req_json(ctx);
    const char *to = portail_json_str(body, "to", 3, 254, &errors);
    const char *subject = portail_json_str(body, "subject", 1, 200, &errors);
    const char *text = portail_json_str(body, "body", 1, 10000, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    if (portail_db_begin(db) != 0 || portail_mail_enqueue(db, to, subject, text) != 0) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    if (json_is_true(json_object_get(body, "explicit")) && portail_db_rollback(db) != 0) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    portail_problem(ctx, 409, NULL, "Échec simulé après la mise en file du courriel.");
}

/* ---- account security ----------------------------------------------------- */

/* The {id} of the path; 0 (and a 404) when it is not a positive integer. */
static int64_t path_id(portail_ctx_t *ctx)
{
    const char *s = portail_req_param(ctx, "id");
    char *end = NULL;
    long long id = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || id <= 0) {
        portail_problem(ctx, 404, NULL, "Compte introuvable.");
        return 0;
    }
    return (int64_t)id;
}

/* The counter named by the body's "counter"; -1 and a 422 when unknown. */
static int body_counter(portail_ctx_t *ctx, portail_counter_t *out)
{
    const char *name = json_string_value(json_object_get(portail_req_json(ctx), "counter"));
    static const char *const names[] = {
        [PORTAIL_COUNTER_PASSWORD] = "password",
        [PORTAIL_COUNTER_SECOND_FACTOR] = "second_factor",
        [PORTAIL_COUNTER_PASSWORD_CHANGE] = "password_change",
    };
    for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (portail_counter_t)i;
            return 0;
        }
    }
    json_t *errors = NULL;
    portail_field_error(&errors, "counter", "Compteur inconnu.");
    portail_problem_fields(ctx, errors);
    return -1;
}

/* 200 with the account's state, or a 500. */
static void respond_state(portail_ctx_t *ctx, portail_db_t *db, int64_t id, json_t *extra)
{
    portail_account_state_t st;
    if (portail_account_state(db, portail_arena(ctx), id, &st) != 0) {
        json_decref(extra);
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    json_t *out =
        json_pack("{s:s, s:s?, s:s?, s:s?, s:i, s:i}", "reason",
                  portail_lock_reason_name(st.reason), "detail", st.detail, "locked_at",
                  st.locked_at, "locked_by", st.locked_by, "password_failures",
                  st.password_failures, "second_factor_failures", st.second_factor_failures);
    if (extra)
        json_object_update(out, extra);
    json_decref(extra);
    portail_respond_json(ctx, 200, out);
}

static void account_show(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx);
    portail_db_t *db = id ? portail_db(ctx) : NULL;
    if (db)
        respond_state(ctx, db, id, NULL);
}

/* {reason, detail, rollback?}: with "rollback": true the lock is taken
 * inside the caller's transaction, which is then rolled back (409). */
static void account_lock(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx);
    if (!id)
        return;
    json_t *body = portail_req_json(ctx);
    portail_lock_reason_t reason =
        portail_lock_reason_parse(json_string_value(json_object_get(body, "reason")));
    if (reason == PORTAIL_LOCK_NONE) {
        json_t *errors = NULL;
        portail_field_error(&errors, "reason", "Motif de blocage inconnu.");
        portail_problem_fields(ctx, errors);
        return;
    }
    const char *detail = json_string_value(json_object_get(body, "detail"));
    int rollback = json_is_true(json_object_get(body, "rollback"));
    portail_db_t *db = portail_db(ctx);
    if (!db || (rollback && portail_db_begin(db) != 0))
        return;
    if (portail_account_lock(ctx, id, reason, detail) != 0) {
        if (!portail_responded(ctx))
            portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    if (rollback) {
        portail_db_rollback(db);
        portail_problem(ctx, 409, NULL, "Échec simulé après le blocage.");
        return;
    }
    respond_state(ctx, db, id, NULL);
}

/* {by, why} -> the state and "unlocked": true (0) or false (1). */
static void account_unlock(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx);
    if (!id)
        return;
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    const char *by = portail_json_str(body, "by", 1, 100, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    const char *why = json_string_value(json_object_get(body, "why"));
    int rc = portail_account_unlock(ctx, id, by, why);
    if (rc < 0) {
        if (!portail_responded(ctx))
            portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (db)
        respond_state(ctx, db, id, json_pack("{s:b}", "unlocked", rc == 0));
}

/* {counter} -> {"value": new value} */
static void account_count(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx);
    portail_counter_t c;
    if (!id || body_counter(ctx, &c) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    int n = portail_account_count(db, id, c);
    if (n < 0) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:i}", "value", n));
}

/* {counter} -> the state */
static void account_reset(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx);
    portail_counter_t c;
    if (!id || body_counter(ctx, &c) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    if (portail_account_reset_counter(db, id, c) != 0) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    respond_state(ctx, db, id, NULL);
}

/* {kind, detail} -> 201 */
static void account_event(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx);
    if (!id)
        return;
    json_t *body = portail_req_json(ctx);
    json_t *errors = NULL;
    const char *kind = portail_json_str(body, "kind", 1, 50, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    const char *detail = json_string_value(json_object_get(body, "detail"));
    if (portail_security_event(ctx, id, kind, detail) != 0) {
        if (!portail_responded(ctx))
            portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    portail_respond_json(ctx, 201, json_pack("{s:s}", "status", "recorded"));
}

/* ---- audit ------------------------------------------------------------------ */

/* {member_id, action, reason} -> 201; 403 when portail_audit refuses a
 * session that is not an agent's. */
static void audit(portail_ctx_t *ctx)
{
    json_t *body = portail_req_json(ctx);
    json_int_t member = json_integer_value(json_object_get(body, "member_id"));
    const char *action = json_string_value(json_object_get(body, "action"));
    const char *reason = json_string_value(json_object_get(body, "reason"));
    if (portail_audit(ctx, (int64_t)member, action, reason) != 0) {
        if (portail_responded(ctx))
            return;
        if (portail_principal(ctx)->kind != PORTAIL_PRINCIPAL_AGENT)
            portail_problem(ctx, 403, NULL, "Action réservée aux agents.");
        else
            portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    portail_respond_json(ctx, 201, json_pack("{s:s}", "status", "recorded"));
}

/* ---- verification and passwords ----------------------------------------------- */

/* {what} -> the state (locked, pending_verification); the link goes by mail. */
static void account_verification(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx);
    if (!id)
        return;
    json_t *errors = NULL;
    const char *what = portail_json_str(portail_req_json(ctx), "what", 1, 200, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    if (portail_account_request_verification(ctx, id, what) != 0) {
        if (!portail_responded(ctx))
            portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (db)
        respond_state(ctx, db, id, NULL);
}

/* {password} -> 204; members.password_hash set, no policy check. */
static void password_set(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx);
    if (!id)
        return;
    json_t *errors = NULL;
    const char *password = portail_json_str(portail_req_json(ctx), "password", 1, 1024, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    const char *hash = NULL;
    portail_db_t *db = portail_db(ctx);
    if (!db || portail_password_hash(ctx, password, &hash) != 0)
        return;
    if (portail_db_exec(db, "UPDATE members SET password_hash = ? WHERE id = ?", "sl", hash,
                        (long long)id) != 1) {
        portail_problem(ctx, 404, NULL, "Compte introuvable.");
        return;
    }
    portail_respond_empty(ctx, 204);
}

/* {password} -> {"match": bool} against members.password_hash. */
static void password_check(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx);
    if (!id)
        return;
    json_t *errors = NULL;
    const char *password = portail_json_str(portail_req_json(ctx), "password", 1, 1024, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *row =
        portail_db_row(db, "SELECT password_hash FROM members WHERE id = ?", "l", (long long)id);
    int rc =
        portail_password_verify(ctx, row ? portail_row_str(row, "password_hash") : NULL, password);
    if (rc < 0)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:b}", "match", rc == 1));
}

PORTAIL_MODULE_INIT(.name = "testmod", .version = "0.1.0", .settings = settings, .init = init,
                    .fini = fini, .routes = routes);

/* GET /api/v1/test/beneficiaries/{member} */
static void beneficiaries_list(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx);
    if (!id)
        return;
    json_t *rows = portail_beneficiaries_list(ctx, id);
    if (!rows) {
        if (!portail_responded(ctx))
            portail_problem(ctx, portail_db_failed(portail_db(ctx)) ? 500 : 404, NULL, NULL);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:O}", "items", rows));
}

/* GET /api/v1/test/beneficiaries/{member}/{ben}: the row and its name. */
static void beneficiary_get(portail_ctx_t *ctx)
{
    int64_t id = path_id(ctx), ben = 0;
    if (!id || portail_req_param_i64(ctx, "ben", &ben) != 0)
        return;
    json_t *row = portail_beneficiary_get(ctx, id, ben);
    const char *name = row ? portail_beneficiary_name(ctx, id, ben) : NULL;
    const char *self = row ? portail_beneficiary_name(ctx, id, 0) : NULL;
    if (!row || !name || !self) {
        if (!portail_responded(ctx))
            portail_problem(ctx, portail_db_failed(portail_db(ctx)) ? 500 : 404, NULL, NULL);
        return;
    }
    portail_respond_json(
        ctx, 200, json_pack("{s:O, s:s, s:s}", "beneficiary", row, "name", name, "self", self));
}

/* POST /api/v1/test/beneficiaries {declaration_id, insured_id, relation, first_name,
 * last_name, birth_date, rights_from?, rights_to?}: {id} or 422. */
static void beneficiary_set(portail_ctx_t *ctx)
{
    json_t *b = portail_req_json(ctx);
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    const portail_beneficiary_t ben = {
        .declaration_id = json_integer_value(json_object_get(b, "declaration_id")),
        .insured_id = json_integer_value(json_object_get(b, "insured_id")),
        .relation = json_string_value(json_object_get(b, "relation")),
        .first_name = json_string_value(json_object_get(b, "first_name")),
        .last_name = json_string_value(json_object_get(b, "last_name")),
        .birth_date = json_string_value(json_object_get(b, "birth_date")),
        .rights_from = json_string_value(json_object_get(b, "rights_from")),
        .rights_to = json_string_value(json_object_get(b, "rights_to")),
    };
    int64_t id = -1;
    if (portail_db_begin(db) != 0 || (id = portail_beneficiary_set(db, &ben)) < 0) {
        portail_db_rollback(db);
        portail_problem(ctx, 422, NULL, "Bénéficiaire refusé.");
        return;
    }
    if (portail_db_commit(db) != 0) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:I}", "id", (json_int_t)id));
}
