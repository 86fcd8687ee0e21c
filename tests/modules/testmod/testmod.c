/* A module that exercises the host for the integration tests: parsing,
 * limits, slow requests, pool holding, sessions and mail. Never enabled in a
 * real deployment. */
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
static void whoami(portail_ctx_t *ctx);
static void session_login(portail_ctx_t *ctx);
static void session_elevate(portail_ctx_t *ctx);
static void session_logout(portail_ctx_t *ctx);
static void sessions(portail_ctx_t *ctx);
static void session_revoke(portail_ctx_t *ctx);
static void mail(portail_ctx_t *ctx);
static void show_settings(portail_ctx_t *ctx);
static void file(portail_ctx_t *ctx);

static const portail_route_t routes[] = {
    {PORTAIL_GET, "/api/v1/test/hello", hello, PORTAIL_AUTH_PUBLIC, 0, 0},
    {PORTAIL_GET | PORTAIL_POST, "/api/v1/test/items/{id}", item, PORTAIL_AUTH_PUBLIC, 0, 0},
    {PORTAIL_GET, "/api/v1/test/items/special", hello, PORTAIL_AUTH_PUBLIC, 0, 0},
    {PORTAIL_POST, "/api/v1/test/echo", echo, PORTAIL_AUTH_PUBLIC, 1024, PORTAIL_CT_JSON},
    {PORTAIL_POST, "/api/v1/test/form", form, PORTAIL_AUTH_PUBLIC, 0, PORTAIL_CT_FORM},
    {PORTAIL_POST, "/api/v1/test/upload", upload, PORTAIL_AUTH_PUBLIC, 1024 * 1024,
     PORTAIL_CT_MULTIPART},
    {PORTAIL_GET, "/api/v1/test/slow", slow, PORTAIL_AUTH_PUBLIC, 0, 0},
    {PORTAIL_GET, "/api/v1/test/db", db_hold, PORTAIL_AUTH_PUBLIC, 0, 0},
    {PORTAIL_GET, "/api/v1/test/member", whoami, PORTAIL_AUTH_MEMBER, 0, 0},
    {PORTAIL_GET, "/api/v1/test/partial", whoami, PORTAIL_AUTH_PARTIAL, 0, 0},
    {PORTAIL_GET, "/api/v1/test/agent", whoami, PORTAIL_AUTH_AGENT, 0, 0},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/default-auth",
     .handler = whoami}, /* no auth: agent only */
    {PORTAIL_POST, "/api/v1/test/session/login", session_login, PORTAIL_AUTH_PUBLIC, 0, 0},
    {PORTAIL_POST, "/api/v1/test/session/elevate", session_elevate, PORTAIL_AUTH_PARTIAL, 0, 0},
    {PORTAIL_POST, "/api/v1/test/session/logout", session_logout, PORTAIL_AUTH_PUBLIC, 0, 0},
    {PORTAIL_GET, "/api/v1/test/sessions", sessions, PORTAIL_AUTH_MEMBER, 0, 0},
    {PORTAIL_DELETE, "/api/v1/test/sessions/{id}", session_revoke, PORTAIL_AUTH_MEMBER, 0, 0},
    {PORTAIL_POST, "/api/v1/test/mail", mail, PORTAIL_AUTH_PUBLIC, 0, 0},
    {PORTAIL_GET, "/api/v1/test/settings", show_settings, PORTAIL_AUTH_PUBLIC, 0, 0},
    {PORTAIL_GET, "/api/v1/test/file", file, PORTAIL_AUTH_PUBLIC, 0, 0},
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
    if (!kind || !level || id <= 0) {
        portail_problem(ctx, 400, NULL, "kind, level et id sont requis.");
        return;
    }
    portail_principal_kind_t k =
        strcmp(kind, "agent") == 0 ? PORTAIL_PRINCIPAL_AGENT : PORTAIL_PRINCIPAL_MEMBER;
    portail_auth_t l = strcmp(level, "partial") == 0 ? PORTAIL_AUTH_PARTIAL
                       : strcmp(level, "agent") == 0 ? PORTAIL_AUTH_AGENT
                                                     : PORTAIL_AUTH_MEMBER;
    if (portail_session_start(ctx, k, id, l, k == PORTAIL_PRINCIPAL_AGENT ? "agent" : NULL) < 0)
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
        portail_problem(ctx, 500, NULL, NULL);
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

PORTAIL_MODULE_INIT(.name = "testmod", .version = "0.1.0", .settings = settings, .init = init,
                    .fini = fini, .routes = routes);
