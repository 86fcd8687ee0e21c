/* Notifications of members: the kinds modules declare, portail_notify (row
 * and announcing mail in the caller's transaction), and the member's routes
 * under /api/v1/notifications. Every query of a route is scoped to the
 * signed-in member ({member}), so another member's notification is a 404.
 *
 * Kinds are declared by the modules through portail_notify_kind in init,
 * not in the descriptor: the descriptor has no place for them, and a table
 * filled at first notify would not know the kinds that never fired (which a
 * member still wants to switch off beforehand). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "portail/mail.h"
#include "portail/notify.h"
#include "portail/texts.h"

#define MAX_KINDS 256

static struct kind {
    char name[65];
    char label[121];
} kinds[MAX_KINDS];
static size_t nkinds;

static const struct kind *kind_find(const char *name)
{
    for (size_t i = 0; i < nkinds; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

int portail_notify_kind(const char *kind, const char *label)
{
    if (!kind || !label || !*label || strlen(label) > 120 ||
        !portail_utf8_valid(label, strlen(label)))
        return -1;
    size_t n = strlen(kind);
    if (n < 3 || n > 64 || !strchr(kind, '.') || kind[0] == '.' || kind[n - 1] == '.')
        return -1;
    for (const char *c = kind; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '.'))
            return -1;
    if (kind_find(kind) || nkinds >= MAX_KINDS)
        return -1;
    snprintf(kinds[nkinds].name, sizeof(kinds[nkinds].name), "%s", kind);
    snprintf(kinds[nkinds].label, sizeof(kinds[nkinds].label), "%s", label);
    nkinds++;
    return 0;
}

static int link_ok(const char *link)
{
    if (!link)
        return 1;
    size_t n = strlen(link);
    if (n == 0 || n > 500 || link[0] != '/' || link[1] == '/' || link[1] == '\\')
        return 0;
    for (const char *c = link; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f || *c == '\\')
            return 0;
    return 1;
}

/* The notification row, then its mail unless the member switched the kind's
 * mail off: the module's template with its vars, or the core's detail-free
 * one. */
static int notify(portail_db_t *db, int64_t member_id, const char *kind, const char *title,
                  const char *text, const char *link, const char *template, const char *const *vars)
{
    if (!db || member_id <= 0 || !kind || !title || !*title || !text) {
        portail_logf("error", NULL, "notify: missing argument");
        return -1;
    }
    if (!kind_find(kind)) {
        portail_logf("error", NULL, "notify: kind %.64s was not declared (portail_notify_kind)",
                     kind);
        return -1;
    }
    if (!link_ok(link)) {
        portail_logf("error", NULL, "notify: link must be a relative path");
        return -1;
    }
    portail_arena_t *a = portail_arena_new(4096);
    int rc = -1;
    json_t *m =
        portail_db_row(db, "SELECT email FROM members WHERE id = ?", "l", (long long)member_id);
    if (!m) {
        if (!portail_db_failed(db))
            portail_logf("error", NULL, "notify: no member %lld", (long long)member_id);
        goto out;
    }
    const char *body = portail_clip_utf8(a, text, 2000); /* NULL for "" */
    if (portail_db_exec(db,
                        "INSERT INTO notifications (member_id, kind, title, body, link) "
                        "VALUES (?, ?, ?, ?, ?)",
                        "lssss", (long long)member_id, kind, portail_clip_utf8(a, title, 200),
                        body ? body : "", link) != 1)
        goto out;
    json_t *pref = portail_db_row(db,
                                  "SELECT mail FROM notification_prefs WHERE member_id = ? AND "
                                  "kind = ?",
                                  "ls", (long long)member_id, kind);
    if (!pref && portail_db_failed(db))
        goto out;
    if (pref && portail_row_int(pref, "mail", 1) == 0) {
        rc = 0;
        goto out;
    }
    const char *email = portail_row_str(m, "email");
    const char *generic[] = {"link", link ? link : "/notifications.html", NULL};
    rc = email && *email ? portail_mail_template(db, a, email, template ? template : "notification",
                                                 template ? vars : generic)
                         : 0;
out:
    portail_arena_free(a);
    return rc;
}

int portail_notify(portail_db_t *db, int64_t member_id, const char *kind, const char *title,
                   const char *text, const char *link)
{
    return notify(db, member_id, kind, title, text, link, NULL, NULL);
}

int portail_notify_mail(portail_db_t *db, int64_t member_id, const char *kind, const char *title,
                        const char *text, const char *link, const char *template,
                        const char *const *vars)
{
    if (!template || !*template) {
        portail_logf("error", NULL, "notify: missing template");
        return -1;
    }
    return notify(db, member_id, kind, title, text, link, template, vars);
}

long long portail_notify_unread(portail_db_t *db, int64_t member_id)
{
    json_t *r = portail_db_row(db,
                               "SELECT COUNT(*) AS n FROM notifications WHERE member_id = ? AND "
                               "read_at IS NULL",
                               "l", (long long)member_id);
    return r ? portail_row_int(r, "n", 0) : -1;
}

/* ---- routes ---------------------------------------------------------------------- */

static json_t *unread_of(portail_ctx_t *ctx)
{
    json_t *r = portail_member_row(ctx,
                                   "SELECT COUNT(*) AS n FROM notifications WHERE member_id = "
                                   "{member} AND read_at IS NULL",
                                   "");
    return r ? json_object_get(r, "n") : NULL;
}

/* GET /api/v1/notifications?limit=&cursor=&unread=: newest first; cursor is
 * the id of the last item of the previous page. */
static void list(portail_ctx_t *ctx)
{
    long long limit, cursor, unread;
    if (portail_query_int(ctx, "limit", 1, 100, 20, &limit) < 0 ||
        portail_query_int(ctx, "cursor", 0, INT64_MAX, 0, &cursor) < 0 ||
        portail_query_int(ctx, "unread", 0, 1, 0, &unread) < 0)
        return;
    if (!portail_db(ctx))
        return;
    json_t *rows = portail_member_rows(
        ctx,
        "SELECT id, kind, title, body AS text, link, created_at AS created, read_at FROM "
        "notifications WHERE member_id = {member} AND (? = 0 OR id < ?) AND (? = 0 OR read_at "
        "IS NULL) ORDER BY id DESC LIMIT ?",
        "llii", cursor, cursor, (int)unread, (int)limit + 1);
    if (!rows)
        return;
    json_t *count = unread_of(ctx);
    if (!count)
        return;
    json_t *next = json_null();
    if (json_array_size(rows) > (size_t)limit) {
        json_array_remove(rows, (size_t)limit);
        next = json_integer(portail_row_int(json_array_get(rows, (size_t)limit - 1), "id", 0));
    }
    json_t *items = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_object_set(row, "read", json_boolean(!json_is_null(json_object_get(row, "read_at"))));
        json_array_append(items, row);
    }
    portail_respond_json(
        ctx, 200,
        json_pack("{s:o, s:O, s:o}", "items", items, "unread", count, "next_cursor", next));
}

static void mark_read(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) < 0 || !portail_db(ctx))
        return;
    json_t *row = portail_member_row(
        ctx, "SELECT id FROM notifications WHERE id = ? AND member_id = {member}", "l",
        (long long)id);
    if (!row) {
        if (!portail_responded(ctx))
            portail_problem(ctx, 404, NULL, TXT_NOTIFY_NOTIFICATION_EXISTE);
        return;
    }
    if (portail_member_exec(ctx,
                            "UPDATE notifications SET read_at = UTC_TIMESTAMP() WHERE id = ? "
                            "AND member_id = {member} AND read_at IS NULL",
                            "l", (long long)id) < 0)
        return;
    json_t *count = unread_of(ctx);
    if (count)
        portail_respond_json(ctx, 200, json_pack("{s:O}", "unread", count));
}

static void mark_all_read(portail_ctx_t *ctx)
{
    if (!portail_db(ctx))
        return;
    long long n = portail_member_exec(ctx,
                                      "UPDATE notifications SET read_at = UTC_TIMESTAMP() WHERE "
                                      "member_id = {member} AND read_at IS NULL",
                                      "");
    if (n < 0)
        return;
    portail_respond_json(ctx, 200, json_pack("{s:I, s:i}", "marked", (json_int_t)n, "unread", 0));
}

static void prefs_answer(portail_ctx_t *ctx)
{
    json_t *rows = portail_member_rows(
        ctx, "SELECT kind, mail FROM notification_prefs WHERE member_id = {member}", "");
    if (!rows)
        return;
    json_t *out = json_array();
    for (size_t k = 0; k < nkinds; k++) {
        int mail = 1;
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            const char *kind = portail_row_str(r, "kind");
            if (kind && strcmp(kind, kinds[k].name) == 0)
                mail = portail_row_int(r, "mail", 1) != 0;
        }
        json_array_append_new(out, json_pack("{s:s, s:s, s:b}", "kind", kinds[k].name, "label",
                                             kinds[k].label, "mail", mail));
    }
    portail_respond_json(ctx, 200, json_pack("{s:o}", "kinds", out));
}

static void prefs_get(portail_ctx_t *ctx)
{
    if (portail_db(ctx))
        prefs_answer(ctx);
}

/* Rerun whole on a 1213/1205 (a Galera conflict with the member's other
 * session): a half-written list would mix the old choices and the new. */
static int prefs_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    (void)db;
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)arg, i, e)
    {
        if (portail_member_exec(ctx,
                                "INSERT INTO notification_prefs (member_id, kind, mail) VALUES "
                                "({member}, ?, ?) ON DUPLICATE KEY UPDATE mail = VALUES(mail)",
                                "si", json_string_value(json_object_get(e, "kind")),
                                json_is_true(json_object_get(e, "mail")) ? 1 : 0) < 0)
            return -1;
    }
    return 0;
}

/* PUT {"kinds": [{"kind": "...", "mail": false}, ...]}: the kinds named
 * change, the others stay. */
static void prefs_put(portail_ctx_t *ctx)
{
    json_t *body = portail_req_json(ctx);
    json_t *kinds_list = body ? json_object_get(body, "kinds") : NULL;
    json_t *errors = NULL;
    if (!json_is_array(kinds_list) || json_array_size(kinds_list) > MAX_KINDS) {
        portail_field_error(&errors, "kinds", TXT_NOTIFY_LISTE_PREFERENCES_ATTENDUE);
        portail_problem_fields(ctx, errors);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(kinds_list, i, e)
    {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        json_t *mail = json_object_get(e, "mail");
        if (!kind || !kind_find(kind))
            portail_field_error(&errors, "kinds", TXT_NOTIFY_TYPE_NOTIFICATION_EXISTE);
        else if (!json_is_boolean(mail))
            portail_field_error(&errors, "mail", TXT_NOTIFY_INDIQUEZ_OUI_NON);
    }
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    if (!portail_db(ctx) || portail_tx_retry(ctx, prefs_tx, kinds_list) != 0)
        return;
    prefs_answer(ctx);
}

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/notifications",
     .handler = list,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/notifications/{id}/read",
     .handler = mark_read,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/notifications/read-all",
     .handler = mark_all_read,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/notifications/preferences",
     .handler = prefs_get,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_PUT,
     .pattern = "/api/v1/notifications/preferences",
     .handler = prefs_put,
     .auth = PORTAIL_AUTH_MEMBER},
    {0},
};

int portail_notify_add_routes(portail_router_t *r, char *err, size_t errlen)
{
    for (const portail_route_t *rt = routes; rt->pattern; rt++)
        if (portail_router_add(r, rt, NULL, err, errlen) < 0)
            return -1;
    return 0;
}
