/* Module example: a member keeps short notes; an agent with the permission
 * example.notes.read reads them (audited by the core). The reference for
 * writing a module: tables first, then handlers, then SQL helpers. Every
 * query on a member's rows goes through portail_member_* with {member}, so
 * that no handler can reach another member's note. */
#include <portail/portail.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_MAX_BYTES 500

struct example_state {
    long long max_notes;
    const char *card_title;
};

static const portail_setting_t settings[] = {
    {.name = "max_notes", .type = PORTAIL_SETTING_INT, .min = 1, .max = 1000, .def_int = 50},
    {.name = "card_title",
     .type = PORTAIL_SETTING_STRING,
     .min = 1,
     .max = 64,
     .def_str = "Mes notes"},
    {0},
};

static const portail_permission_t permissions[] = {
    {.name = "example.notes.read", .description = "Lire les notes d'un assuré"},
    {0},
};

static const portail_nav_t nav[] = {
    {.menu = PORTAIL_MENU_MEMBER,
     .label = "Mes notes",
     .href = "/notes/",
     .text = "Vos notes personnelles.",
     .order = 50},
    {.menu = PORTAIL_MENU_BACKOFFICE,
     .label = "Notes des assurés",
     .href = "/backoffice/notes/",
     .permission = "example.notes.read",
     .order = 50},
    {0},
};

/* Work after the answer: recount a member's notes (a job enqueued in the
 * request's transaction), and a trace of every lock of a member's account
 * (a hook, run in the locking transaction). */
static int job_recount(portail_job_t *job);
static int on_locked(portail_db_t *db, const portail_hook_args_t *args, void *state);

static const portail_job_kind_t jobs[] = {
    {.name = "example.recount", .handler = job_recount, .max_attempts = 3, .lease_seconds = 30},
    {0},
};

static const portail_hook_t hooks[] = {
    {.event = PORTAIL_HOOK_ACCOUNT_LOCKED, .handler = on_locked},
    {0},
};

static void notes_list(portail_ctx_t *ctx);
static void note_create(portail_ctx_t *ctx);
static void note_get(portail_ctx_t *ctx);
static void note_delete(portail_ctx_t *ctx);
static void bo_notes(portail_ctx_t *ctx);
static void scope_misuse(portail_ctx_t *ctx);
static int summary(portail_ctx_t *ctx, void **card);

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/example/notes",
     .handler = notes_list,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/example/notes",
     .handler = note_create,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = 4096},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/example/notes/{id}",
     .handler = note_get,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_DELETE,
     .pattern = "/api/v1/example/notes/{id}",
     .handler = note_delete,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/example/members/{id}/notes",
     .handler = bo_notes,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "example.notes.read",
     .audit = "example.notes.read"},
    /* For the tests only: misuses of the member scope, which the core refuses
     * (an agent route; SQL without {member}). */
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/backoffice/example/misuse",
     .handler = scope_misuse,
     .auth = PORTAIL_AUTH_AGENT},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/example/misuse",
     .handler = scope_misuse,
     .auth = PORTAIL_AUTH_MEMBER},
    {0},
};

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    struct example_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "example: out of memory");
        return -1;
    }
    st->max_notes = portail_settings_int(s, "max_notes");
    st->card_title = portail_settings_str(s, "card_title");
    *state = st;
    return 0;
}

static void fini(void *state)
{
    free(state);
}

PORTAIL_MODULE_INIT(.name = "example", .version = "1.0.0", .settings = settings, .init = init,
                    .fini = fini, .routes = routes, .permissions = permissions, .nav = nav,
                    .jobs = jobs, .hooks = hooks, .summary = summary);

static json_t *my_notes(portail_ctx_t *ctx);
static json_t *my_note(portail_ctx_t *ctx, int64_t id);
static long long my_note_count(portail_ctx_t *ctx);
static long long my_note_add(portail_ctx_t *ctx, const char *text);
static long long my_note_delete(portail_ctx_t *ctx, int64_t id);
static json_t *member_notes(portail_db_t *db, int64_t member_id);

static void fail(portail_ctx_t *ctx)
{
    if (!portail_responded(ctx))
        portail_problem(ctx, 500, NULL, NULL);
}

/* ---- GET /api/v1/example/notes ------------------------------------------ */
static void notes_list(portail_ctx_t *ctx)
{
    json_t *rows = my_notes(ctx);
    if (!rows) {
        fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:O}", "notes", rows));
}

/* ---- POST /api/v1/example/notes {text} ----------------------------------- */
static void note_create(portail_ctx_t *ctx)
{
    const struct example_state *st = portail_module_state(ctx);
    json_t *errors = NULL;
    const char *text = portail_json_str(portail_req_json(ctx), "text", 1, TEXT_MAX_BYTES, &errors);
    if (!text) {
        portail_problem_fields(ctx, errors);
        return;
    }
    long long count = my_note_count(ctx);
    if (count < 0) {
        fail(ctx);
        return;
    }
    if (count >= st->max_notes) {
        portail_problem(ctx, 409, NULL,
                        portail_sprintf(portail_arena(ctx),
                                        "Vous avez atteint le nombre maximal de notes (%lld).",
                                        st->max_notes));
        return;
    }
    /* The note and its recount job commit together or not at all. */
    portail_db_t *db = portail_db(ctx);
    if (!db || portail_db_begin(db) != 0) {
        fail(ctx);
        return;
    }
    long long id = my_note_add(ctx, text);
    json_t *payload = json_pack("{s:I}", "member", (json_int_t)portail_principal(ctx)->id);
    int queued =
        id > 0 && payload && portail_job_enqueue(db, "example.recount", payload, 0, NULL) == 0;
    json_decref(payload);
    if (!queued || portail_db_commit(db) != 0) {
        fail(ctx);
        return;
    }
    portail_respond_json(ctx, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id, "text", text));
}

/* ---- GET /api/v1/example/notes/{id} -------------------------------------- */
static void note_get(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    json_t *row = my_note(ctx, id);
    if (!row) {
        if (portail_responded(ctx) || portail_db_failed(portail_db(ctx)))
            fail(ctx);
        else
            portail_problem(ctx, 404, NULL, "Cette note n'existe pas.");
        return;
    }
    portail_respond_json(ctx, 200, json_incref(row));
}

/* ---- DELETE /api/v1/example/notes/{id} ----------------------------------- */
static void note_delete(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    long long n = my_note_delete(ctx, id);
    if (n < 0) {
        fail(ctx);
        return;
    }
    if (n == 0) {
        portail_problem(ctx, 404, NULL, "Cette note n'existe pas.");
        return;
    }
    portail_respond_empty(ctx, 204);
}

/* ---- GET /api/v1/backoffice/example/members/{id}/notes --------------------
 * Permission and audit are the core's (route table); the handler only names
 * the member read (and the optional ?reason=). */
static void bo_notes(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *member = portail_db_row(db, "SELECT id FROM members WHERE id = ?", "l", (long long)id);
    if (!member) {
        if (portail_db_failed(db))
            fail(ctx);
        else
            portail_problem(ctx, 404, NULL, "Compte introuvable.");
        return;
    }
    json_t *rows = member_notes(db, id);
    if (!rows) {
        fail(ctx);
        return;
    }
    portail_audit_subject(ctx, id);
    const char *why = portail_req_query(ctx, "reason");
    if (why && *why)
        portail_audit_reason(ctx, why);
    portail_respond_json(ctx, 200,
                         json_pack("{s:I, s:O}", "member_id", (json_int_t)id, "notes", rows));
}

static void scope_misuse(portail_ctx_t *ctx)
{
    json_t *rows = portail_principal(ctx)->kind == PORTAIL_PRINCIPAL_MEMBER
                       ? portail_member_rows(ctx, "SELECT id FROM example_notes", "")
                       : my_notes(ctx);
    if (!rows) {
        fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "unexpected"));
}

/* The member's card: how many notes. */
static int summary(portail_ctx_t *ctx, void **card)
{
    const struct example_state *st = portail_module_state(ctx);
    long long n = my_note_count(ctx);
    if (n < 0)
        return -1;
    *card =
        json_pack("{s:s, s:s, s:s, s:I}", "title", st->card_title, "text",
                  n == 0 ? "Aucune note pour l'instant."
                         : portail_sprintf(portail_arena(ctx), "%lld note%s.", n, n > 1 ? "s" : ""),
                  "href", "/notes/", "count", (json_int_t)n);
    return *card ? 0 : -1;
}

/* ---- SQL helpers ----------------------------------------------------------- */

static json_t *my_notes(portail_ctx_t *ctx)
{
    return portail_member_rows(ctx,
                               "SELECT id, text, created_at FROM example_notes "
                               "WHERE member_id = {member} ORDER BY id DESC LIMIT 1000",
                               "");
}

static json_t *my_note(portail_ctx_t *ctx, int64_t id)
{
    return portail_member_row(ctx,
                              "SELECT id, text, created_at FROM example_notes "
                              "WHERE id = ? AND member_id = {member}",
                              "l", (long long)id);
}

static long long my_note_count(portail_ctx_t *ctx)
{
    json_t *row = portail_member_row(
        ctx, "SELECT COUNT(*) AS n FROM example_notes WHERE member_id = {member}", "");
    return row ? portail_row_int(row, "n", -1) : -1;
}

/* The new note's id, or -1. */
static long long my_note_add(portail_ctx_t *ctx, const char *text)
{
    long long n = portail_member_exec(
        ctx, "INSERT INTO example_notes (member_id, text) VALUES ({member}, ?)", "s", text);
    return n == 1 ? (long long)portail_db_insert_id(portail_db(ctx)) : -1;
}

static long long my_note_delete(portail_ctx_t *ctx, int64_t id)
{
    return portail_member_exec(
        ctx, "DELETE FROM example_notes WHERE id = ? AND member_id = {member}", "l", (long long)id);
}

/* Agents only, on an explicit member: not the member scope. */
static json_t *member_notes(portail_db_t *db, int64_t member_id)
{
    return portail_db_rows(db,
                           "SELECT id, text, created_at FROM example_notes WHERE member_id = ? "
                           "ORDER BY id DESC LIMIT 1000",
                           "l", (long long)member_id);
}

/* ---- job and hook ---------------------------------------------------------- */

/* Idempotent, as every job must be: it may run again after a lost lease. */
static int job_recount(portail_job_t *job)
{
    json_int_t member = json_integer_value(json_object_get(portail_job_payload(job), "member"));
    portail_db_t *db = portail_job_db(job);
    if (member <= 0 || !db) {
        portail_job_set_error(job, "payload without a member, or no database");
        return -1;
    }
    if (portail_db_exec(
            db,
            "INSERT INTO example_note_counts (member_id, notes) "
            "SELECT ?, COUNT(*) FROM example_notes WHERE member_id = ? "
            "ON DUPLICATE KEY UPDATE notes = VALUES(notes), counted_at = UTC_TIMESTAMP()",
            "ll", (long long)member, (long long)member) < 0) {
        portail_job_set_error(job, "count not written");
        return -1;
    }
    return 0;
}

static int on_locked(portail_db_t *db, const portail_hook_args_t *args, void *state)
{
    (void)state;
    return portail_db_exec(db, "INSERT INTO example_lock_trace (member_id, reason) VALUES (?, ?)",
                           "ls", (long long)args->member_id, args->detail ? args->detail : "") < 0
               ? -1
               : 0;
}
