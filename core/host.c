/* One request's path through the host: copy the FastCGI params into the
 * arena, route, authenticate, check CSRF, read and parse the body within the
 * route's cap, run the handler, write the response, log one line. */
#include <errno.h>
#include <stddef.h>
#include <fcgiapp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"
#include "portail/texts.h"

#define MAX_QUERY_PAIRS 64
#define MAX_FORM_PAIRS 256
#define MAX_COOKIES 32
#define MAX_HEADERS 100
#define MAX_MULTIPART_PARTS 32
#define MAX_UA 512

portail_host_t *portail_the_host;

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 423:
        return "Locked";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return status < 400 ? "OK" : "Internal Server Error";
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- copying the request -------------------------------------------------- */

/* HTTP_X_CSRF_TOKEN -> x-csrf-token */
static char *header_name(portail_arena_t *a, const char *env, size_t n)
{
    char *s = portail_strndup(a, env, n);
    for (char *p = s; *p; p++)
        *p = *p == '_' ? '-' : (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return s;
}

/* Most params do not start with H: the first byte spares a call per param
 * on each of the two passes (callgrind: 1.6 k instructions a request). */
static inline bool is_header(const char *env)
{
    return env[0] == 'H' && strncmp(env, "HTTP_", 5) == 0;
}

/* The FastCGI params the host reads, picked out in the same single pass over
 * the environment as the headers (FCGX_GetParam is a linear scan each). */
struct params {
    const char *request_id, *method, *uri, *document_uri, *query, *remote_addr, *country,
        *content_type, *content_length;
};

static int copy_headers(portail_ctx_t *ctx, FCGX_Request *req, struct params *p)
{
    static const struct {
        const char *name;
        size_t len;
        size_t off;
    } wanted[] = {
#define WANT(n, f) {n "=", sizeof(n), offsetof(struct params, f)}
        WANT("REQUEST_ID", request_id),
        WANT("REQUEST_METHOD", method),
        WANT("REQUEST_URI", uri),
        WANT("DOCUMENT_URI", document_uri),
        WANT("QUERY_STRING", query),
        WANT("REMOTE_ADDR", remote_addr),
        WANT("GEOIP_COUNTRY_CODE", country),
        WANT("CONTENT_TYPE", content_type),
        WANT("CONTENT_LENGTH", content_length),
#undef WANT
    };
    size_t count = 0, bytes = 0;
    memset(p, 0, sizeof(*p));
    for (char **e = req->envp; *e; e++) {
        if (is_header(*e)) {
            count++;
            continue;
        }
        for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
            if ((*e)[0] == wanted[i].name[0] && strncmp(*e, wanted[i].name, wanted[i].len) == 0) {
                *(const char **)((char *)p + wanted[i].off) = *e + wanted[i].len;
                break;
            }
        }
    }
    if (count > MAX_HEADERS)
        return -1;
    ctx->headers = portail_alloc(ctx->arena, sizeof(portail_kv_t) * (count ? count : 1));
    for (char **e = req->envp; *e; e++) {
        if (!is_header(*e))
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        bytes += strlen(*e);
        if (bytes > (size_t)ctx->host->conf->max_header_bytes)
            return -1;
        portail_kv_t *kv = &ctx->headers[ctx->nheaders++];
        kv->key = header_name(ctx->arena, *e + 5, (size_t)(eq - *e - 5));
        kv->value = portail_strdup(ctx->arena, eq + 1);
    }
    return 0;
}

static void make_request_id(portail_ctx_t *ctx, const char *from_nginx)
{
    size_t n = from_nginx ? strlen(from_nginx) : 0;
    int ok = n == 32;
    for (size_t i = 0; ok && i < n; i++)
        ok = (from_nginx[i] >= '0' && from_nginx[i] <= '9') ||
             (from_nginx[i] >= 'a' && from_nginx[i] <= 'f');
    if (ok) {
        memcpy(ctx->request_id, from_nginx, 33);
        return;
    }
    unsigned char raw[16];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(ctx->request_id, sizeof(ctx->request_id), raw, sizeof(raw));
}

/* Returns 0, or an HTTP status for a request that cannot even be routed. */
static int copy_request(portail_ctx_t *ctx, FCGX_Request *req)
{
    portail_arena_t *a = ctx->arena;
    struct params p;
    int bad_headers = copy_headers(ctx, req, &p) < 0;
    make_request_id(ctx, p.request_id);
    ctx->method = portail_strdup(a, p.method ? p.method : "GET");
    ctx->is_head = strcmp(ctx->method, "HEAD") == 0;
    const char *uri = p.uri ? p.uri : p.document_uri ? p.document_uri : "/";
    const char *q = strchr(uri, '?');
    ctx->path = q ? portail_strndup(a, uri, (size_t)(q - uri)) : portail_strdup(a, uri);
    const char *qs = p.query;
    if (!qs && q)
        qs = q + 1;
    ctx->query_string = portail_strdup(a, qs ? qs : "");
    ctx->client.ip = portail_strndup(a, p.remote_addr ? p.remote_addr : "", 45);
    ctx->client.country =
        portail_strndup(a, p.country && strlen(p.country) == 2 ? p.country : "", 2);
    ctx->content_type =
        p.content_type && *p.content_type ? portail_strndup(a, p.content_type, 512) : NULL;
    ctx->content_length = p.content_length ? portail_strndup(a, p.content_length, 32) : NULL;
    if (bad_headers)
        return 431;
    const char *ua = portail_req_header(ctx, "user-agent");
    ctx->client.user_agent = portail_strndup(a, ua ? ua : "", MAX_UA);
    const char *cookie = portail_req_header(ctx, "cookie");
    if (cookie) {
        if (strlen(cookie) > (size_t)ctx->host->conf->max_cookie_bytes)
            return 431;
        int n = portail_parse_cookies(a, cookie, MAX_COOKIES, &ctx->cookies);
        if (n < 0)
            return 431;
        ctx->ncookies = (size_t)n;
    }
    if (strlen(ctx->path) > 2048)
        return 404;
    int n = portail_parse_urlencoded(a, ctx->query_string, strlen(ctx->query_string),
                                     MAX_QUERY_PAIRS, &ctx->query);
    if (n < 0)
        return 400;
    ctx->nquery = (size_t)n;
    return 0;
}

/* ---- checks before the handler ---------------------------------------------- */

static int is_state_changing(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static int check_auth(portail_ctx_t *ctx)
{
    const portail_route_t *r = ctx->route;
    if (r->auth == PORTAIL_AUTH_PUBLIC)
        return 0;
    const portail_principal_t *p = &ctx->principal;
    if (p->kind == PORTAIL_PRINCIPAL_NONE) {
        portail_problem(ctx, 401, NULL, TXT_HOST_CONNECTEZ_VOUS);
        return -1;
    }
    int ok = 0;
    switch (r->auth) {
    case PORTAIL_AUTH_PARTIAL:
        ok = p->kind == PORTAIL_PRINCIPAL_MEMBER && p->level == PORTAIL_AUTH_PARTIAL;
        break;
    case PORTAIL_AUTH_MEMBER:
        ok = p->kind == PORTAIL_PRINCIPAL_MEMBER && p->level == PORTAIL_AUTH_MEMBER;
        break;
    case PORTAIL_AUTH_AGENT:
        ok = p->kind == PORTAIL_PRINCIPAL_AGENT && p->level == PORTAIL_AUTH_AGENT;
        break;
    case PORTAIL_AUTH_PUBLIC:
        ok = 1;
        break;
    }
    if (!ok) {
        if (p->level == PORTAIL_AUTH_PARTIAL)
            portail_problem(ctx, 401, NULL, TXT_HOST_SAISISSEZ_CODE_SECURITE_TERMINER);
        else
            portail_problem(ctx, 403, NULL, TXT_HOST_SESSION_DONNE_ACCES_SERVICE);
        return -1;
    }
    return 0;
}

/* The route's permission, from the agent's role, before the handler runs:
 * a module never checks roles itself. */
static int check_permission(portail_ctx_t *ctx)
{
    const char *perm = ctx->route->permission;
    if (!perm || portail_permitted(ctx, perm))
        return 0;
    portail_problem(ctx, 403, NULL,
                    portail_sprintf(ctx->arena, TXT_HOST_ROLE_DONNE_ACCES_SERVICE,
                                    portail_permission_description(perm)));
    portail_problem_extra(ctx, "permission", json_string(perm));
    return -1;
}

/* A route with `audit` that answered below 400 read or changed member data:
 * the row is written here, so that the handler cannot forget it. Without
 * it the answer is not sent: a read that leaves no trace is refused. */
static void audit_after(portail_ctx_t *ctx)
{
    const char *action = ctx->route->audit;
    if (!action || ctx->status <= 0 || ctx->status >= 400)
        return;
    if (portail_audit(ctx, ctx->audit_member, action, ctx->audit_reason) != 0) {
        portail_logf("error", ctx->request_id, "automatic audit %s of %s %s failed", action,
                     ctx->method, ctx->route->pattern);
        ctx->resp_headers = NULL;
        portail_problem(ctx, 500, NULL, NULL);
    }
}

/* Browsers always send Origin on cross-site state-changing requests; the
 * per-session token guards against anything that gets past that. */
static int check_csrf(portail_ctx_t *ctx)
{
    if (!is_state_changing(ctx->method))
        return 0;
    const char *origin = portail_req_header(ctx, "origin");
    if (!origin || strcmp(origin, ctx->host->conf->origin) != 0) {
        portail_problem(ctx, 403, NULL, TXT_HOST_ORIGINE_REQUETE_REFUSEE);
        return -1;
    }
    if (ctx->principal.kind == PORTAIL_PRINCIPAL_NONE || !ctx->csrf_token)
        return 0;
    const char *token = portail_req_header(ctx, "x-csrf-token");
    size_t n = strlen(ctx->csrf_token);
    if (!token || strlen(token) != n || sodium_memcmp(token, ctx->csrf_token, n) != 0) {
        portail_problem(ctx, 403, NULL, TXT_HOST_JETON_CSRF_INVALIDE);
        return -1;
    }
    return 0;
}

/* Split from read_body so that the fuzzers (fuzz/) drive the very code a
 * request's body goes through, without a FastCGI stream. */
int portail_body_decode(portail_ctx_t *ctx, unsigned got, size_t cap)
{
    if (got == PORTAIL_CT_JSON) {
        json_error_t jerr;
        json_t *j =
            json_loadb((const char *)ctx->body, ctx->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
            portail_problem(ctx, 400, NULL,
                            portail_sprintf(ctx->arena, TXT_HOST_JSON_ENVOYE_MAL_FORME, jerr.line,
                                            jerr.column));
            return -1;
        }
        ctx->json = portail_arena_json(ctx->arena, j);
    } else if (got == PORTAIL_CT_FORM) {
        int n = portail_parse_urlencoded(ctx->arena, (const char *)ctx->body, ctx->body_len,
                                         MAX_FORM_PAIRS, &ctx->form);
        if (n < 0) {
            portail_problem(ctx, 400, NULL, TXT_HOST_FORMULAIRE_ENVOYE_MAL_FORME);
            return -1;
        }
        ctx->nform = (size_t)n;
    } else {
        portail_multipart_limits_t lim = {MAX_MULTIPART_PARTS, cap, 4096};
        const char *err = NULL;
        int rc = portail_parse_multipart(ctx->arena, ctx->content_type, ctx->body, ctx->body_len,
                                         &lim, &ctx->parts, &ctx->nparts, &err);
        if (rc != 0) {
            portail_problem(ctx, rc == -2 ? 413 : 400, NULL,
                            err ? err : TXT_HOST_CONTENU_MULTIPART_MAL_FORME);
            return -1;
        }
    }
    return 0;
}

static int read_body(portail_ctx_t *ctx, FCGX_Request *req)
{
    const char *cl = ctx->content_length;
    if (!cl || !*cl)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long len = strtoull(cl, &end, 10);
    if (errno || *end || cl[0] == '-') {
        portail_problem(ctx, 400, NULL, TXT_HOST_CONTENT_LENGTH_INVALIDE);
        return -1;
    }
    if (len == 0)
        return 0;
    size_t cap = ctx->route->body_max ? ctx->route->body_max : PORTAIL_BODY_DEFAULT;
    if (len > cap) {
        portail_problem(ctx, 413, NULL,
                        portail_sprintf(ctx->arena, TXT_HOST_CONTENU_ENVOYE_DEPASSE_TAILLE, cap));
        return -1;
    }
    unsigned types = ctx->route->content_types ? ctx->route->content_types : PORTAIL_CT_JSON;
    unsigned got = 0;
    if (portail_media_type_is(ctx->content_type, "application/json"))
        got = PORTAIL_CT_JSON;
    else if (portail_media_type_is(ctx->content_type, "application/x-www-form-urlencoded"))
        got = PORTAIL_CT_FORM;
    else if (portail_media_type_is(ctx->content_type, "multipart/form-data"))
        got = PORTAIL_CT_MULTIPART;
    if (!(got & types)) {
        portail_problem(ctx, 415, NULL,
                        (types & PORTAIL_CT_JSON) ? TXT_HOST_SERVICE_ATTEND_CONTENU_TYPE
                                                  : TXT_HOST_TYPE_CONTENU_NON_ACCEPTE);
        return -1;
    }
    ctx->body = portail_alloc(ctx->arena, (size_t)len + 1);
    size_t have = 0;
    while (have < len) {
        int chunk = len - have > 65536 ? 65536 : (int)(len - have);
        int n = FCGX_GetStr((char *)ctx->body + have, chunk, req->in);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    if (have != len) {
        portail_problem(ctx, 400, NULL, TXT_HOST_CONTENU_RECU_INCOMPLET);
        return -1;
    }
    ctx->body[len] = '\0';
    ctx->body_len = (size_t)len;
    return portail_body_decode(ctx, got, cap);
}

/* ---- built-in routes ----------------------------------------------------------- */

static void health(portail_ctx_t *ctx)
{
    int why = 0;
    const char *db = "down";
    json_t *outbox = json_null();
    portail_db_t *conn = portail_pool_acquire(ctx->host->pool, ctx->arena, ctx->request_id,
                                              ctx->host->conf->db.acquire_timeout_ms, &why);
    if (conn) {
        json_t *row = portail_db_row(conn, "SELECT 1 AS ok", "");
        if (row && portail_row_int(row, "ok", 0) == 1)
            db = "up";
        /* Mail that does not leave (SMTP outage, attempts used up) shows
         * here, for monitoring, beside the log's alert. */
        long long n = 0, age = -1;
        if (row && portail_outbox_backlog(conn, &n, &age) == 0)
            outbox = json_pack("{s:I, s:o, s:b}", "undelivered", (json_int_t)n, "oldest_seconds",
                               age >= 0 ? json_integer(age) : json_null(), "alert",
                               n > 0 && age >= ctx->host->conf->mail_alert_after_s);
        portail_pool_release(conn);
    }
    json_t *mods = json_array();
    for (size_t i = 0; i < ctx->host->nmodules; i++) {
        const portail_loaded_module_t *m = &ctx->host->modules[i];
        if (m->enabled)
            json_array_append_new(
                mods, json_pack("{s:s, s:s}", "name", m->desc->name, "version", m->desc->version));
    }
    int up = strcmp(db, "up") == 0;
    if (!up)
        portail_set_header(ctx, "Retry-After", "5");
    portail_respond_json(ctx, up ? 200 : 503,
                         json_pack("{s:s, s:s, s:s, s:o, s:o}", "status", up ? "ok" : "degraded",
                                   "version", PORTAIL_VERSION, "db", db, "modules", mods, "outbox",
                                   outbox ? outbox : json_null()));
}

static const char *level_name(portail_auth_t l)
{
    switch (l) {
    case PORTAIL_AUTH_PARTIAL:
        return "partial";
    case PORTAIL_AUTH_MEMBER:
        return "member";
    case PORTAIL_AUTH_AGENT:
        return "agent";
    default:
        return "public";
    }
}

/* Gives a page script the CSRF token of its session, which it cannot read
 * from the HttpOnly cookie. */
static void session_info(portail_ctx_t *ctx)
{
    const portail_principal_t *p = &ctx->principal;
    if (p->kind == PORTAIL_PRINCIPAL_NONE) {
        portail_problem(ctx, 401, NULL, TXT_HOST_AUCUNE_SESSION);
        return;
    }
    json_t *out = json_pack("{s:s, s:s, s:s?, s:s}", "kind",
                            p->kind == PORTAIL_PRINCIPAL_AGENT ? "agent" : "member", "level",
                            level_name(p->level), "role", p->role, "csrf_token",
                            ctx->csrf_token ? ctx->csrf_token : "");
    /* What the back office may show: the permissions of the agent's role. */
    if (p->kind == PORTAIL_PRINCIPAL_AGENT && p->level == PORTAIL_AUTH_AGENT)
        json_object_set_new(out, "permissions", portail_role_permissions(p->role));
    portail_respond_json(ctx, 200, out);
}

struct nav_item {
    const portail_nav_t *nav;
    const portail_loaded_module_t *module;
    size_t seq; /* module order in the config, then declaration order */
};

static int nav_cmp(const void *a, const void *b)
{
    const struct nav_item *x = a, *y = b;
    if (x->nav->order != y->nav->order)
        return x->nav->order < y->nav->order ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The menu of the principal (0 and a 401 set when there is none). */
static portail_menu_t menu_of(portail_ctx_t *ctx)
{
    const portail_principal_t *p = &ctx->principal;
    if (p->kind == PORTAIL_PRINCIPAL_MEMBER && p->level == PORTAIL_AUTH_MEMBER)
        return PORTAIL_MENU_MEMBER;
    if (p->kind == PORTAIL_PRINCIPAL_AGENT && p->level == PORTAIL_AUTH_AGENT)
        return PORTAIL_MENU_BACKOFFICE;
    portail_problem(ctx, 401, NULL, TXT_HOST_CONNECTEZ_VOUS);
    return 0;
}

/* The entries of a menu from the enabled modules, the back office's
 * filtered by the permissions of the agent's role, in display order (arena;
 * *n of them). */
static struct nav_item *nav_entries(portail_ctx_t *ctx, portail_menu_t menu, size_t *n)
{
    size_t cap = 0;
    for (size_t i = 0; i < ctx->host->nmodules; i++)
        for (const portail_nav_t *v = ctx->host->modules[i].desc->nav; v && v->label; v++)
            cap++;
    struct nav_item *items = portail_alloc(ctx->arena, (cap ? cap : 1) * sizeof(*items));
    size_t seq = 0;
    *n = 0;
    for (size_t i = 0; i < ctx->host->nmodules; i++) {
        const portail_loaded_module_t *m = &ctx->host->modules[i];
        for (const portail_nav_t *v = m->desc->nav; v && v->label; v++, seq++) {
            if (!m->enabled || v->menu != menu ||
                (v->permission && !portail_permitted(ctx, v->permission)))
                continue;
            items[(*n)++] = (struct nav_item){v, m, seq};
        }
    }
    qsort(items, *n, sizeof(*items), nav_cmp);
    return items;
}

static json_t *nav_json(const struct nav_item *items, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:s?, s:s}", "label", items[i].nav->label,
                                        "href", items[i].nav->href, "text", items[i].nav->text,
                                        "module", items[i].module->desc->name));
    return list;
}

/* GET /api/v1/nav: the member's menu, or the agent's. */
static void nav_menu(portail_ctx_t *ctx)
{
    portail_menu_t menu = menu_of(ctx);
    if (!menu)
        return;
    size_t n;
    struct nav_item *items = nav_entries(ctx, menu, &n);
    portail_respond_json(ctx, 200,
                         json_pack("{s:s, s:o}", "menu",
                                   menu == PORTAIL_MENU_MEMBER ? "member" : "backoffice", "items",
                                   nav_json(items, n)));
}

/* Runs m's summary as the module (state, name, logs) and returns its card
 * (a new reference, or NULL for none), or sets *failed when it failed or
 * overran server.summary_budget_ms. The budget is checked when the summary
 * returns (a summary is not interrupted), so one that overruns costs its
 * own time once and no more: its card is refused. Whatever it set on the
 * answer (a status, a problem, headers) is dropped: it is not the caller's
 * answer. */
static json_t *run_summary(portail_ctx_t *ctx, const portail_loaded_module_t *m, int *failed)
{
    struct portail_resp_header *last = ctx->resp_headers;
    while (last && last->next)
        last = last->next;
    void *card = NULL;
    ctx->module = m;
    double t0 = now_ms();
    int rc = m->desc->summary(ctx, &card);
    double took = now_ms() - t0;
    ctx->module = NULL;
    ctx->status = 0;
    if (last)
        last->next = NULL;
    else
        ctx->resp_headers = NULL;
    json_t *j = card;
    int slow = took > (double)ctx->host->conf->summary_budget_ms;
    *failed = rc != 0 || slow || (j && !json_is_object(j));
    if (*failed) {
        portail_logf("error", ctx->request_id, "module %s: summary %s", m->desc->name,
                     slow ? "over its time budget" : "failed");
        json_decref(j);
        return NULL;
    }
    return j;
}

/* A module's count next to its member nav entries that ask for one
 * (portail_nav_t.badge): the integer `badge` of its summary card (e.g.
 * messaging's unread answers), when above 0. Only those modules' summaries
 * run, since this is on every signed-in page. A summary that fails or
 * overruns gives no badge (and a log line), never an error of the frame. */
static void nav_badges(portail_ctx_t *ctx, const struct nav_item *items, size_t n, json_t *list)
{
    for (size_t i = 0; i < ctx->host->nmodules; i++) {
        const portail_loaded_module_t *m = &ctx->host->modules[i];
        if (!m->enabled || !m->desc->summary)
            continue;
        int wanted = 0;
        for (size_t k = 0; k < n && !wanted; k++)
            wanted = items[k].module == m && items[k].nav->badge;
        if (!wanted)
            continue;
        int failed;
        json_t *card = run_summary(ctx, m, &failed);
        json_t *badge = json_object_get(card, "badge");
        if (json_is_integer(badge) && json_integer_value(badge) > 0)
            for (size_t k = 0; k < n; k++)
                if (items[k].module == m && items[k].nav->badge)
                    json_object_set(json_array_get(list, k), "badge", badge);
        json_decref(card);
    }
}

/* GET /api/v1/portal: what a page needs to draw its frame: the enabled
 * modules, the principal's menu (with the modules' badges for a member)
 * and, for a member, the unread notifications. */
static void portal(portail_ctx_t *ctx)
{
    portail_menu_t menu = menu_of(ctx);
    if (!menu)
        return;
    json_t *mods = json_array();
    for (size_t i = 0; i < ctx->host->nmodules; i++)
        if (ctx->host->modules[i].enabled)
            json_array_append_new(mods, json_string(ctx->host->modules[i].desc->name));
    size_t n;
    struct nav_item *items = nav_entries(ctx, menu, &n);
    json_t *list = nav_json(items, n);
    json_t *out =
        json_pack("{s:s, s:o, s:o}", "menu", menu == PORTAIL_MENU_MEMBER ? "member" : "backoffice",
                  "modules", mods, "items", list);
    if (menu == PORTAIL_MENU_MEMBER) {
        portail_db_t *db = portail_db(ctx);
        long long unread = db ? portail_notify_unread(db, ctx->principal.id) : -1;
        if (unread < 0) {
            json_decref(out);
            if (!ctx->status)
                portail_problem(ctx, 500, NULL, NULL);
            return;
        }
        json_object_set_new(out, "unread", json_integer(unread));
        nav_badges(ctx, items, n, list);
    }
    portail_respond_json(ctx, 200, out);
}

/* GET /api/v1/dashboard: one card per enabled module with a summary, in
 * config order. A summary that fails or overruns its budget (run_summary)
 * gives a card in error (and a log line): the others still answer. */
static void dashboard(portail_ctx_t *ctx)
{
    json_t *cards = json_array();
    for (size_t i = 0; i < ctx->host->nmodules; i++) {
        const portail_loaded_module_t *m = &ctx->host->modules[i];
        if (!m->enabled || !m->desc->summary)
            continue;
        int failed;
        json_t *j = run_summary(ctx, m, &failed);
        if (failed) {
            json_array_append_new(cards,
                                  json_pack("{s:s, s:s}", "module", m->desc->name, "error",
                                            TXT_HOST_INFORMATION_MOMENTANEMENT_INDISPONIBLE));
            continue;
        }
        if (!j)
            continue;
        if (!json_object_get(j, "module"))
            json_object_set_new(j, "module", json_string(m->desc->name));
        json_array_append_new(cards, j);
    }
    portail_respond_json(ctx, 200, json_pack("{s:o}", "cards", cards));
}

static const portail_route_t core_routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/health",
     .handler = health,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/session",
     .handler = session_info,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/nav",
     .handler = nav_menu,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/dashboard",
     .handler = dashboard,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/portal",
     .handler = portal,
     .auth = PORTAIL_AUTH_PUBLIC},
    {0},
};

int portail_host_add_core_routes(portail_router_t *r, char *err, size_t errlen)
{
    for (const portail_route_t *rt = core_routes; rt->pattern; rt++)
        if (portail_router_add(r, rt, NULL, err, errlen) < 0)
            return -1;
    if (portail_notify_add_routes(r, err, errlen) < 0)
        return -1;
    return portail_jobs_add_routes(r, err, errlen);
}

int portail_host_load(portail_host_t *h, char *err, size_t errlen)
{
    const portail_conf_t *c = h->conf;
    char why[1024];
    if (portail_templates_load(c->mail_templates, c->fund_name, c->origin, why, sizeof(why)) < 0 ||
        portail_templates_brand(c->brand.name, c->brand.phone) < 0 ||
        portail_pdf_configure(c->fund_name, c->pdf_address, c->pdf_logo, c->pdf_font,
                              c->pdf_font_bold, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", c->file, why);
        return -1;
    }
    portail_brand_texts(c);
    h->router = portail_router_new();
    if (!h->router) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (portail_host_add_core_routes(h->router, err, errlen) < 0 ||
        portail_modules_load(c, h->router, &h->modules, &h->nmodules, err, errlen) < 0 ||
        portail_jobs_register(h, err, errlen) < 0)
        return -1;
    return 0;
}

void portail_host_unload(portail_host_t *h)
{
    portail_jobs_unregister();
    portail_modules_unload(h->modules, h->nmodules);
    h->modules = NULL;
    h->nmodules = 0;
    portail_router_free(h->router);
    h->router = NULL;
    portail_templates_free();
}

/* ---- the response ---------------------------------------------------------------- */

/* Every request's head and access line are written by hand: their
 * snprintf calls were about a twentieth of GET /api/v1/me's instructions
 * and more of the trivial route's (callgrind). */
typedef struct out {
    char *p, *end;
    int over;
} out_t;

static void out_put(out_t *o, const char *s, size_t n)
{
    if (o->over || (size_t)(o->end - o->p) < n) {
        o->over = 1;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

#define OUT_LIT(o, s) out_put((o), (s), sizeof(s) - 1)

static void out_str(out_t *o, const char *s)
{
    out_put(o, s, strlen(s));
}

static void out_num(out_t *o, long long v)
{
    char t[24];
    size_t n;
    const char *q = portail_fmt_ll(t, v, &n);
    out_put(o, q, n);
}

static void write_response(portail_ctx_t *ctx, FCGX_Request *req)
{
    char head[512];
    out_t o = {head, head + sizeof head, 0};
    OUT_LIT(&o, "Status: ");
    out_num(&o, ctx->status);
    OUT_LIT(&o, " ");
    out_str(&o, reason_phrase(ctx->status));
    OUT_LIT(&o, "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Request-Id: ");
    out_str(&o, ctx->request_id);
    OUT_LIT(&o, "\r\nContent-Length: ");
    out_num(&o, (long long)ctx->resp_len);
    OUT_LIT(&o, "\r\n");
    int n = (int)(o.p - head);
    FCGX_PutStr(head, n, req->out);
    if (ctx->resp_type) {
        FCGX_PutS("Content-Type: ", req->out);
        FCGX_PutS(ctx->resp_type, req->out);
        if (strncmp(ctx->resp_type, "application/", 12) == 0 && strstr(ctx->resp_type, "json"))
            FCGX_PutS("; charset=utf-8", req->out);
        FCGX_PutS("\r\n", req->out);
    }
    /* A JSON answer opened as a page downloads instead (ASVS 14.4.2,
     * reflected file download); files keep the disposition they set. */
    int disposition = 0;
    for (const struct portail_resp_header *h = ctx->resp_headers; h; h = h->next)
        disposition |= strcasecmp(h->name, "Content-Disposition") == 0;
    if (!disposition && ctx->resp_type && strstr(ctx->resp_type, "json"))
        FCGX_PutS("Content-Disposition: attachment; filename=\"api.json\"\r\n", req->out);
    for (const struct portail_resp_header *h = ctx->resp_headers; h; h = h->next) {
        FCGX_PutS(h->name, req->out);
        FCGX_PutS(": ", req->out);
        FCGX_PutS(h->value, req->out);
        FCGX_PutS("\r\n", req->out);
    }
    FCGX_PutS("\r\n", req->out);
    if (!ctx->is_head && ctx->resp_len)
        FCGX_PutStr(ctx->resp_body, (int)ctx->resp_len, req->out);
}

/* Each field is escaped into its own bounded buffer first, so that a long or
 * hostile path is cut (at a character boundary) but the line always closes:
 * one valid JSON object per line. */
static void log_request(const portail_ctx_t *ctx, double ms)
{
    long long us = ms > 0 ? (long long)(ms * 1000.0) : 0;
    char t[40], method[64], path[1024], module[128];
    portail_log_time(t, sizeof(t));
    portail_json_escape(method, 0, sizeof(method), ctx->method);
    portail_json_escape(path, 0, sizeof(path), ctx->path);
    portail_json_escape(module, 0, sizeof(module), ctx->module ? ctx->module->desc->name : "core");
    const char *kind = ctx->principal.kind == PORTAIL_PRINCIPAL_MEMBER  ? "member"
                       : ctx->principal.kind == PORTAIL_PRINCIPAL_AGENT ? "agent"
                                                                        : NULL;
    char line[2048];
    out_t o = {line, line + sizeof line, 0};
    OUT_LIT(&o, "{\"time\":\"");
    out_str(&o, t);
    OUT_LIT(&o, "\",\"level\":\"info\",\"request_id\":\"");
    out_str(&o, ctx->request_id);
    OUT_LIT(&o, "\",\"method\":\"");
    out_str(&o, method);
    OUT_LIT(&o, "\",\"path\":\"");
    out_str(&o, path);
    OUT_LIT(&o, "\",\"status\":");
    out_num(&o, ctx->status);
    OUT_LIT(&o, ",\"duration_ms\":");
    out_num(&o, us / 1000);
    char frac[4] = {'.', (char)('0' + us % 1000 / 100), (char)('0' + us % 100 / 10),
                    (char)('0' + us % 10)};
    out_put(&o, frac, sizeof frac);
    OUT_LIT(&o, ",\"module\":\"");
    out_str(&o, module);
    OUT_LIT(&o, "\",\"principal\":");
    if (kind) {
        OUT_LIT(&o, "\"");
        out_str(&o, kind);
        OUT_LIT(&o, ":");
        out_num(&o, (long long)ctx->principal.id);
        OUT_LIT(&o, "\"");
    } else {
        OUT_LIT(&o, "null");
    }
    OUT_LIT(&o, "}\n");
    if (!o.over)
        portail_log_access(line, (size_t)(o.p - line));
}

void portail_host_serve(portail_host_t *h, FCGX_Request *req, portail_arena_t *arena)
{
    double t0 = now_ms();
    portail_arena_json_begin(arena);
    portail_ctx_t ctx = {.arena = arena, .host = h};
    int early = copy_request(&ctx, req);
    if (early) {
        portail_problem(&ctx, early, NULL,
                        early == 431   ? TXT_HOST_EN_TETES_TROP_VOLUMINEUX
                        : early == 400 ? TXT_HOST_PARAMETRES_ADRESSE_MAL_FORMES
                                       : TXT_HOST_AUCUN_SERVICE_CORRESPOND_ADRESSE);
        goto respond;
    }
    /* nginx checks the normalised path, the router reads the raw one:
     * a path the two could read differently is refused outright. */
    if (!portail_path_clean(ctx.path)) {
        portail_problem(&ctx, 400, NULL, TXT_HOST_ADRESSE_REFUSEE);
        goto respond;
    }
    /* The back office's network rule, here too (defence in depth behind
     * nginx's allow list), on the client address nginx passes. */
    int from_backoffice_net =
        portail_nets_match(h->conf->backoffice_nets, h->conf->nbackoffice_nets, ctx.client.ip);
    if (strncmp(ctx.path, "/api/v1/backoffice", 18) == 0 &&
        (ctx.path[18] == '/' || ctx.path[18] == '\0') && !from_backoffice_net) {
        portail_problem(&ctx, 403, NULL, TXT_HOST_ESPACE_HORS_RESEAU);
        goto respond;
    }
    portail_match_t m;
    int rc = portail_router_match(h->router, arena, ctx.method, ctx.path, &m);
    if (rc == 405) {
        portail_set_header(&ctx, "Allow", portail_methods_str(arena, m.allowed));
        portail_problem(&ctx, 405, NULL,
                        portail_sprintf(arena, TXT_HOST_METHODE_ACCEPTEE_ICI, ctx.method));
        goto respond;
    }
    if (rc != 0) {
        portail_problem(&ctx, 404, NULL, TXT_HOST_AUCUN_SERVICE_CORRESPOND_ADRESSE);
        goto respond;
    }
    ctx.route = m.route;
    ctx.module = m.module;
    ctx.params = m.params;
    ctx.nparams = m.nparams;
    /* An agent route is the back office's wherever a module put it: the
     * rule follows the route's level, not only the path prefix. */
    if (ctx.route->auth == PORTAIL_AUTH_AGENT && !from_backoffice_net) {
        portail_problem(&ctx, 403, NULL, TXT_HOST_ESPACE_HORS_RESEAU);
        goto respond;
    }
    if (portail_req_cookie(&ctx, PORTAIL_SESSION_COOKIE) && portail_session_load(&ctx) < 0) {
        if (!ctx.status)
            portail_problem_retry(&ctx, 503, 1, NULL, NULL);
        goto respond;
    }
    if (check_auth(&ctx) < 0 || check_permission(&ctx) < 0 || check_csrf(&ctx) < 0 ||
        read_body(&ctx, req) < 0)
        goto respond;
    ctx.route->handler(&ctx);
    if (!ctx.status) {
        portail_logf("error", ctx.request_id, "handler of %s %s set no response", ctx.method,
                     ctx.route->pattern);
        portail_problem(&ctx, 500, NULL, NULL);
    }
    audit_after(&ctx);
respond:
    write_response(&ctx, req);
    FCGX_Finish_r(req);
    double took = now_ms() - t0;
    log_request(&ctx, took);
    portail_metrics_record(h, ctx.route, ctx.module, ctx.method, ctx.status, took);
    portail_arena_reset(arena);
}
