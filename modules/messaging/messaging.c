/* Module messaging: threads between a member and a service of the fund
 * (recipients from the config), plain-text messages stored as written,
 * attachments through the core documents service, read receipts both ways,
 * and the agents' inbox in the back office (permission and automatic audit).
 * Every member query goes through portail_member_* with {member}: another
 * member's thread or attachment is a 404. */
#include <portail/audit.h>
#include <portail/portail.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <portail/texts.h>

#define SUBJECT_MAX_CHARS 200
#define BODY_MAX_CHARS 10000
/* The search, in characters as the member reads it; 4 bytes a character at
 * most (utf8mb4) bounds the bytes scanned before counting. */
#define QUERY_MAX_CHARS 100
#define QUERY_MAX_BYTES (QUERY_MAX_CHARS * 4)
#define SERVICES_MAX 32
/* documents.max_request_bytes (20 MiB) and the multipart framing. */
#define UPLOAD_BODY_MAX (((size_t)20 << 20) + 64 * 1024)

struct service {
    char *code, *label, *team;
    int open;
    long long target_hours; /* response-time target: older waiting threads are flagged */
};

#define CANNED_MAX 64

struct canned {
    char *code, *text;
};

struct messaging_state {
    struct service services[SERVICES_MAX];
    size_t nservices;
    struct canned canned[CANNED_MAX];
    size_t ncanned;
    long long max_per_hour, max_per_day, max_files, max_file_bytes, page_max;
};

static const portail_setting_t settings[] = {
    {.name = "services",
     .type = PORTAIL_SETTING_STRING,
     .min = 3,
     .max = 4000,
     .def_str = "REMB|Mes remboursements|remboursements|open;"
                "VITALE|Ma carte Vitale|cartes|open;"
                "IJ|Mes indemnités journalières|indemnites|open;"
                "SITU|Changement de situation|situation|open;"
                "RECL|Réclamation|reclamations|open"},
    {.name = "max_per_hour", .type = PORTAIL_SETTING_INT, .min = 1, .max = 10000, .def_int = 10},
    {.name = "max_per_day", .type = PORTAIL_SETTING_INT, .min = 1, .max = 100000, .def_int = 30},
    {.name = "max_files", .type = PORTAIL_SETTING_INT, .min = 0, .max = 5, .def_int = 5},
    {.name = "max_file_bytes",
     .type = PORTAIL_SETTING_INT,
     .min = 1024,
     .max = 20 << 20,
     .def_int = 5 << 20},
    {.name = "page_max", .type = PORTAIL_SETTING_INT, .min = 1, .max = 500, .def_int = 50},
    {.name = "target_hours", .type = PORTAIL_SETTING_INT, .min = 1, .max = 2000, .def_int = 48},
    {.name = "canned_answers",
     .type = PORTAIL_SETTING_STRING,
     .min = 0,
     .max = 8000,
     .def_str = "REMB|Bonjour,\nVotre demande de remboursement est en cours de traitement. Vous "
                "serez informé de son règlement.\nVotre caisse.;"
                "VITALE|Bonjour,\nVous pouvez commander une nouvelle carte Vitale depuis votre "
                "espace.\nVotre caisse."},
    {0},
};

static const portail_permission_t permissions[] = {
    {.name = "messaging.read", .description = TXT_MESSAGING_PERMISSION_READ, .default_agent = 1},
    {.name = "messaging.answer", .description = TXT_MESSAGING_PERMISSION_WRITE, .default_agent = 1},
    {.name = "messaging.supervise", .description = TXT_MESSAGING_PERMISSION_SUPERVISE},
    {0},
};

static const portail_nav_t nav[] = {
    {.menu = PORTAIL_MENU_MEMBER,
     .label = TXT_MESSAGING_MA_MESSAGERIE,
     .href = "/messaging/",
     .text = TXT_MESSAGING_DESCRIPTION,
     .order = 40,
     .badge = 1},
    {.menu = PORTAIL_MENU_BACKOFFICE,
     .label = TXT_MESSAGING_MENU_AGENT,
     .href = "/messaging/agent.html",
     .permission = "messaging.read",
     .order = 40},
    {0},
};

static void recipients(portail_ctx_t *ctx);
static void thread_new(portail_ctx_t *ctx);
static void thread_reply(portail_ctx_t *ctx);
static void threads_list(portail_ctx_t *ctx);
static void thread_get(portail_ctx_t *ctx);
static void thread_archive(portail_ctx_t *ctx);
static void attachment_get(portail_ctx_t *ctx);
static void bo_threads(portail_ctx_t *ctx);
static void bo_thread_get(portail_ctx_t *ctx);
static void bo_take(portail_ctx_t *ctx);
static void bo_reply(portail_ctx_t *ctx);
static void bo_close(portail_ctx_t *ctx);
static void bo_attachment_get(portail_ctx_t *ctx);
static void bo_reassign(portail_ctx_t *ctx);
static void bo_backlog(portail_ctx_t *ctx);
static void bo_teams(portail_ctx_t *ctx);
static void bo_team_add(portail_ctx_t *ctx);
static void bo_team_remove(portail_ctx_t *ctx);
static int summary(portail_ctx_t *ctx, void **card);
static int job_report(portail_job_t *job);

static const portail_job_kind_t jobs[] = {
    {.name = "messaging.report", .handler = job_report, .max_attempts = 3, .lease_seconds = 120},
    {0},
};

#define BO "/api/v1/backoffice/messaging"

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/messages/recipients",
     .handler = recipients,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/messages",
     .handler = thread_new,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = UPLOAD_BODY_MAX,
     .content_types = PORTAIL_CT_MULTIPART},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/messages",
     .handler = threads_list,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/messages/{thread}",
     .handler = thread_get,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/messages/{thread}/reply",
     .handler = thread_reply,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = UPLOAD_BODY_MAX,
     .content_types = PORTAIL_CT_MULTIPART},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/messages/{thread}/archive",
     .handler = thread_archive,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/messages/{thread}/attachments/{doc}",
     .handler = attachment_get,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = BO "/threads",
     .handler = bo_threads,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "messaging.read",
     .audit = "messaging.threads.list"},
    {.methods = PORTAIL_GET,
     .pattern = BO "/threads/{thread}",
     .handler = bo_thread_get,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "messaging.read",
     .audit = "messaging.thread.read"},
    {.methods = PORTAIL_POST,
     .pattern = BO "/threads/{thread}/take",
     .handler = bo_take,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "messaging.answer",
     .audit = "messaging.thread.take"},
    {.methods = PORTAIL_POST,
     .pattern = BO "/threads/{thread}/reply",
     .handler = bo_reply,
     .auth = PORTAIL_AUTH_AGENT,
     .body_max = UPLOAD_BODY_MAX,
     .content_types = PORTAIL_CT_MULTIPART | PORTAIL_CT_FORM | PORTAIL_CT_JSON,
     .permission = "messaging.answer",
     .audit = "messaging.thread.reply"},
    {.methods = PORTAIL_POST,
     .pattern = BO "/threads/{thread}/close",
     .handler = bo_close,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "messaging.answer",
     .audit = "messaging.thread.close"},
    {.methods = PORTAIL_GET,
     .pattern = BO "/threads/{thread}/attachments/{doc}",
     .handler = bo_attachment_get,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "messaging.read",
     .audit = "messaging.attachment.read"},
    {.methods = PORTAIL_POST,
     .pattern = BO "/threads/{thread}/reassign",
     .handler = bo_reassign,
     .auth = PORTAIL_AUTH_AGENT,
     .body_max = 4096,
     .permission = "messaging.answer",
     .audit = "messaging.thread.reassign"},
    {.methods = PORTAIL_GET,
     .pattern = BO "/backlog",
     .handler = bo_backlog,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "messaging.supervise",
     .audit = "messaging.backlog.read"},
    /* The teams' agents, kept by the supervisors (the audit row's reason
     * names the team and the agent). */
    {.methods = PORTAIL_GET,
     .pattern = BO "/teams",
     .handler = bo_teams,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "messaging.supervise",
     .audit = "messaging.teams.read"},
    {.methods = PORTAIL_POST,
     .pattern = BO "/teams/{team}/agents",
     .handler = bo_team_add,
     .auth = PORTAIL_AUTH_AGENT,
     .body_max = 4096,
     .permission = "messaging.supervise",
     .audit = "messaging.team.add"},
    {.methods = PORTAIL_DELETE,
     .pattern = BO "/teams/{team}/agents/{agent}",
     .handler = bo_team_remove,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "messaging.supervise",
     .audit = "messaging.team.remove"},
    {0},
};

/* "CODE|label|team|open;..." into st->services; -1 on a malformed entry. */
static int parse_services(struct messaging_state *st, const char *spec, char *err, size_t errlen)
{
    char *copy = strdup(spec);
    if (!copy)
        return -1;
    char *save = NULL;
    for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        char *f[5] = {0};
        char *p = item;
        for (int i = 0; i < 5; i++) {
            f[i] = p;
            p = p ? strchr(p, '|') : NULL;
            if (p)
                *p++ = '\0';
        }
        /* No comma in a code: the agent's services are bound as one
         * FIND_IN_SET list. */
        if (st->nservices == SERVICES_MAX || !f[3] || p || !*f[0] || strlen(f[0]) > 16 ||
            strchr(f[0], ',') || !*f[1] || !*f[2] || strlen(f[2]) > 64 ||
            (strcmp(f[3], "open") != 0 && strcmp(f[3], "closed") != 0)) {
            snprintf(err, errlen,
                     "messaging: services: malformed entry (CODE|label|team|open[|hours])");
            free(copy);
            return -1;
        }
        struct service *s = &st->services[st->nservices++];
        s->code = strdup(f[0]);
        s->label = strdup(f[1]);
        s->team = strdup(f[2]);
        s->open = strcmp(f[3], "open") == 0;
        char *end = NULL;
        s->target_hours = f[4] ? strtoll(f[4], &end, 10) : 0;
        if (f[4] && (end == f[4] || *end || s->target_hours < 1 || s->target_hours > 2000)) {
            snprintf(err, errlen, "messaging: services: target hours out of 1..2000");
            free(copy);
            return -1;
        }
        if (!s->code || !s->label || !s->team) {
            free(copy);
            return -1;
        }
    }
    free(copy);
    if (st->nservices == 0) {
        snprintf(err, errlen, "messaging: services: none");
        return -1;
    }
    return 0;
}

/* "CODE|text;..." (\\n in a text is a line break) into st->canned. */
static int parse_canned(struct messaging_state *st, const char *spec, char *err, size_t errlen)
{
    char *copy = strdup(spec ? spec : "");
    if (!copy)
        return -1;
    char *save = NULL;
    for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        char *bar = strchr(item, '|');
        if (!bar || st->ncanned == CANNED_MAX || bar == item || !bar[1]) {
            snprintf(err, errlen, "messaging: canned_answers: malformed entry (CODE|text)");
            free(copy);
            return -1;
        }
        *bar = '\0';
        char *text = strdup(bar + 1);
        if (!text) {
            free(copy);
            return -1;
        }
        char *w = text;
        for (const char *r = text; *r; r++) {
            if (r[0] == '\\' && r[1] == 'n') {
                *w++ = '\n';
                r++;
            } else {
                *w++ = *r;
            }
        }
        *w = '\0';
        st->canned[st->ncanned].code = strdup(item);
        st->canned[st->ncanned++].text = text;
        if (!st->canned[st->ncanned - 1].code) {
            free(copy);
            return -1;
        }
    }
    free(copy);
    return 0;
}

static void fini(void *state)
{
    struct messaging_state *st = state;
    if (!st)
        return;
    for (size_t i = 0; i < st->nservices; i++) {
        free(st->services[i].code);
        free(st->services[i].label);
        free(st->services[i].team);
    }
    for (size_t i = 0; i < st->ncanned; i++) {
        free(st->canned[i].code);
        free(st->canned[i].text);
    }
    free(st);
}

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    struct messaging_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "messaging: out of memory");
        return -1;
    }
    if (parse_services(st, portail_settings_str(s, "services"), err, errlen) != 0) {
        fini(st);
        return -1;
    }
    st->max_per_hour = portail_settings_int(s, "max_per_hour");
    st->max_per_day = portail_settings_int(s, "max_per_day");
    st->max_files = portail_settings_int(s, "max_files");
    st->max_file_bytes = portail_settings_int(s, "max_file_bytes");
    st->page_max = portail_settings_int(s, "page_max");
    long long target = portail_settings_int(s, "target_hours");
    for (size_t i = 0; i < st->nservices; i++)
        if (st->services[i].target_hours == 0)
            st->services[i].target_hours = target;
    if (parse_canned(st, portail_settings_str(s, "canned_answers"), err, errlen) != 0) {
        fini(st);
        return -1;
    }
    if (portail_notify_kind("messaging.reply", TXT_MESSAGING_NOTIFICATION_TYPE) != 0) {
        snprintf(err, errlen, "messaging: notification kind refused");
        fini(st);
        return -1;
    }
    *state = st;
    return 0;
}

PORTAIL_MODULE_INIT(.name = "messaging", .version = "1.0.0", .settings = settings, .init = init,
                    .fini = fini, .routes = routes, .permissions = permissions, .nav = nav,
                    .jobs = jobs, .summary = summary);

/* ---- helpers --------------------------------------------------------------- */

static void fail(portail_ctx_t *ctx)
{
    if (!portail_responded(ctx))
        portail_problem(ctx, 500, NULL, NULL);
}

static const struct service *service_of(const struct messaging_state *st, const char *code)
{
    for (size_t i = 0; code && i < st->nservices; i++)
        if (strcmp(st->services[i].code, code) == 0)
            return &st->services[i];
    return NULL;
}

/* Characters (code points) of valid UTF-8 s, a CRLF counted as one: the
 * browser counts a line break of a textarea as one character (maxlength,
 * the pages' counter) but sends it as CRLF in a form. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80 && !(s[0] == '\r' && s[1] == '\n'))
            n++;
    return n;
}

/* v as a text of 1..max characters, valid UTF-8, not only blanks; NULL and
 * a field error otherwise. Stored as written: no trimming, no escaping. */
static const char *text_check(portail_ctx_t *ctx, const char *v, const char *name, size_t max_chars,
                              const char *what, json_t **errors)
{
    if (!v || !*v || !portail_utf8_valid(v, strlen(v)) || strspn(v, " \t\r\n") == strlen(v)) {
        portail_field_error(errors, name,
                            portail_sprintf(portail_arena(ctx), "Saisissez %s.", what));
        return NULL;
    }
    if (utf8_chars(v) > max_chars) {
        portail_field_error(
            errors, name,
            portail_sprintf(portail_arena(ctx), TXT_MESSAGING_CHAMP_TROP_LONG, max_chars));
        return NULL;
    }
    return v;
}

/* The form field name, checked by text_check. */
static const char *text_field(portail_ctx_t *ctx, const char *name, size_t max_chars,
                              const char *what, json_t **errors)
{
    return text_check(ctx, portail_req_form(ctx, name), name, max_chars, what, errors);
}

static size_t file_parts(portail_ctx_t *ctx)
{
    size_t n = 0, count = 0;
    const portail_part_t *parts = portail_req_parts(ctx, &n);
    for (size_t i = 0; parts && i < n; i++)
        if (parts[i].filename)
            count++;
    return count;
}

/* The member's messages in the last hour and day against the config: 0, or
 * -1 with the answer set (429). */
static int rate_check(portail_ctx_t *ctx)
{
    const struct messaging_state *st = portail_module_state(ctx);
    json_t *row = portail_member_row(
        ctx,
        "SELECT CAST(COALESCE(SUM(sent_at > UTC_TIMESTAMP() - INTERVAL 1 HOUR), 0) AS SIGNED) "
        "AS h, COUNT(*) AS d "
        "FROM messaging_messages WHERE member_id = {member} AND author = 'member' "
        "AND sent_at > UTC_TIMESTAMP() - INTERVAL 1 DAY",
        "");
    if (!row) {
        fail(ctx);
        return -1;
    }
    if (portail_row_int(row, "h", 0) >= st->max_per_hour) {
        portail_problem_retry(ctx, 429, 3600, NULL, TXT_MESSAGING_TROP_DE_MESSAGES_HEURE);
        return -1;
    }
    if (portail_row_int(row, "d", 0) >= st->max_per_day) {
        portail_problem_retry(ctx, 429, 86400, NULL, TXT_MESSAGING_TROP_DE_MESSAGES_JOUR);
        return -1;
    }
    return 0;
}

/* Checks and scans the request's files (if any) through the core
 * documents service, for owner (an agent's answer) or the signed-in member
 * (owner 0), before the message's transaction: 0 with *batch (NULL: no
 * file), or -1 with the answer set. The files are stored in the message's
 * transaction (portail_documents_insert): committed apart, a crash or a
 * failed insert in between left documents that no message names
 * (tests/integration/test_crash.py). */
static int check_files(portail_ctx_t *ctx, long long owner, portail_doc_batch_t **batch)
{
    const struct messaging_state *st = portail_module_state(ctx);
    *batch = NULL;
    size_t n = file_parts(ctx);
    if (n == 0)
        return 0;
    if ((long long)n > st->max_files) {
        json_t *errors = NULL;
        portail_field_error(&errors, "pieces_jointes",
                            portail_sprintf(portail_arena(ctx), TXT_MESSAGING_TROP_DE_FICHIERS,
                                            st->max_files, st->max_files >= 2 ? "s" : ""));
        portail_problem_fields(ctx, errors);
        return -1;
    }
    portail_doc_rules_t rules = {
        .types = PORTAIL_DOC_TYPE(PORTAIL_FILE_PDF) | PORTAIL_DOC_TYPE(PORTAIL_FILE_JPEG) |
                 PORTAIL_DOC_TYPE(PORTAIL_FILE_PNG),
        .max_file_bytes = (size_t)st->max_file_bytes,
        .max_files = (size_t)st->max_files,
    };
    *batch = owner ? portail_documents_check_for(ctx, (int64_t)owner, &rules)
                   : portail_documents_check(ctx, &rules);
    return *batch ? 0 : -1;
}

/* Adds message of thread for member_id with its attachments, and moves the
 * thread with it (one UPDATE): out of the archive, open after the member,
 * answered and taken (unless already) after an agent. The message id or -1.
 * In the caller's transaction. */
static long long message_add(portail_db_t *db, long long thread, long long member_id,
                             const char *author, long long agent_id, const char *body, json_t *docs)
{
    if (portail_db_exec(db,
                        "INSERT INTO messaging_messages (thread_id, member_id, author, agent_id, "
                        "body) VALUES (?, ?, ?, NULLIF(?, 0), ?)",
                        "llsls", thread, member_id, author, agent_id, body) != 1)
        return -1;
    long long id = (long long)portail_db_insert_id(db);
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d)
    {
        long long doc = (long long)json_integer_value(json_object_get(d, "id"));
        if (portail_db_exec(db,
                            "INSERT INTO messaging_attachments (document_id, message_id, "
                            "thread_id, member_id) VALUES (?, ?, ?, ?)",
                            "llll", doc, id, thread, member_id) != 1)
            return -1;
    }
    if (portail_db_exec(db,
                        "UPDATE messaging_threads SET last_message_id = ?, last_author = ?, "
                        "last_activity_at = UTC_TIMESTAMP(), archived = 0, "
                        "status = IF(? = 'agent', 'answered', 'open'), "
                        "agent_id = COALESCE(agent_id, NULLIF(?, 0)) "
                        "WHERE id = ? AND member_id = ?",
                        "lsslll", id, author, author, agent_id, thread, member_id) != 1)
        return -1;
    return id;
}

/* A reply in thread of member, by agent (0: the member), with its files;
 * an agent's reply notifies the member (the mail of the core carries no
 * detail). Rerun whole on a 1213/1205 (portail_tx_retry): on a Galera
 * cluster a write through another node to the same thread aborts it at
 * COMMIT, a 500 otherwise. Answers 201 {id, thread, attachments}. */
struct reply {
    long long thread, member, agent;
    const char *body;
    portail_doc_batch_t *files;
};

static int reply_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const struct reply *r = arg;
    json_t *docs;
    if (portail_documents_insert(ctx, r->files, &docs) != 0)
        return -1;
    long long msg = message_add(db, r->thread, r->member, r->agent ? "agent" : "member", r->agent,
                                r->body, docs);
    char link[64];
    snprintf(link, sizeof(link), "/messaging/thread.html?id=%lld", r->thread);
    if (msg < 0 || (r->agent && portail_notify(db, r->member, "messaging.reply",
                                               TXT_MESSAGING_NOTIFICATION_TITRE,
                                               TXT_MESSAGING_NOTIFICATION_TEXTE, link) != 0))
        return -1;
    portail_respond_json(ctx, 201,
                         json_pack("{s:I, s:I, s:O}", "id", (json_int_t)msg, "thread",
                                   (json_int_t)r->thread, "attachments", docs));
    return 0;
}

static json_t *service_json(const struct service *s)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:I}", "code", s->code, "label", s->label, "team",
                     s->team, "open", s->open, "target_hours", (json_int_t)s->target_hours);
}

/* For agents: the service with its canned answers. */
static json_t *service_agent_json(const struct messaging_state *st, const struct service *s)
{
    json_t *j = service_json(s);
    json_t *c = json_array();
    for (size_t i = 0; i < st->ncanned; i++)
        if (strcmp(st->canned[i].code, s->code) == 0)
            json_array_append_new(c, json_string(st->canned[i].text));
    json_object_set_new(j, "canned_answers", c);
    return j;
}

/* A thread waits for the fund when the member wrote last; past the
 * service's target it is flagged. */
static void flag_overdue(const struct messaging_state *st, json_t *row)
{
    const struct service *s = service_of(st, portail_row_str(row, "service"));
    const char *status = portail_row_str(row, "status");
    const char *last = portail_row_str(row, "last_author");
    int waiting = status && strcmp(status, "closed") != 0 && last && strcmp(last, "member") == 0;
    long long hours = portail_row_int(row, "waiting_hours", 0);
    json_object_set_new(row, "waiting_fund", json_boolean(waiting));
    json_object_set_new(row, "overdue", json_boolean(waiting && s && hours >= s->target_hours));
}

/* The messages of thread with their attachments, both read with the
 * thread's member_id too (the signed-in member's id on the member's side). */
static json_t *thread_messages(portail_db_t *db, long long thread, long long member)
{
    json_t *msgs = portail_db_rows(
        db,
        "SELECT id, author, body, sent_at, read_at FROM "
        "messaging_messages WHERE thread_id = ? AND member_id = ? ORDER BY id LIMIT 1000",
        "ll", thread, member);
    json_t *atts =
        msgs ? portail_db_rows(db,
                               "SELECT a.message_id, d.id, d.name, d.size, d.type "
                               "FROM messaging_attachments a JOIN documents d ON "
                               "d.id = a.document_id WHERE a.thread_id = ? AND a.member_id = ? "
                               "ORDER BY d.id",
                               "ll", thread, member)
             : NULL;
    if (!atts)
        return NULL;
    size_t i, j;
    json_t *m, *a;
    json_array_foreach(msgs, i, m)
    {
        json_t *list = json_array();
        json_array_foreach(atts, j, a)
        {
            if (portail_row_int(a, "message_id", 0) == portail_row_int(m, "id", -1))
                json_array_append_new(
                    list, json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(a, "id"), "name",
                                    json_object_get(a, "name"), "size", json_object_get(a, "size"),
                                    "type", json_object_get(a, "type")));
        }
        json_object_set_new(m, "attachments", list);
    }
    return msgs;
}

static json_t *thread_json(const struct messaging_state *st, json_t *row)
{
    const struct service *s = service_of(st, portail_row_str(row, "service"));
    json_object_set_new(row, "service_label", json_string(s ? s->label : ""));
    return row;
}

/* The signed-in member's thread {thread} (columns cols), or NULL with a 404
 * (another member's thread as well) or a 500 set. */
static json_t *member_thread(portail_ctx_t *ctx, const char *cols, int64_t *id)
{
    if (portail_req_param_i64(ctx, "thread", id) != 0)
        return NULL;
    json_t *t = portail_member_row(
        ctx,
        portail_sprintf(portail_arena(ctx),
                        "SELECT %s FROM messaging_threads WHERE id = ? AND member_id = {member}",
                        cols),
        "l", (long long)*id);
    if (!t) {
        if (portail_responded(ctx) || portail_db_failed(portail_db(ctx)))
            fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_MESSAGING_CONVERSATION_INCONNUE);
    }
    return t;
}

/* Keeps the first limit rows of rows (limit + 1 asked): the cursor of the
 * next page, or JSON null on the last one. */
static json_t *page_cut(json_t *rows, long long limit)
{
    if ((long long)json_array_size(rows) <= limit)
        return json_null();
    json_array_remove(rows, (size_t)limit);
    return json_sprintf(
        "%lld", portail_row_int(json_array_get(rows, (size_t)limit - 1), "last_message_id", 0));
}

/* Answers 200 with thread t (already checked: the member's own, or of the
 * agent's teams) and its messages. Opening it is the read receipt of the
 * other side's messages; an agent also gets the delay flags and the
 * service with its canned answers. */
static void thread_show(portail_ctx_t *ctx, json_t *t, long long id, long long member, int agent)
{
    const struct messaging_state *st = portail_module_state(ctx);
    portail_db_t *db = portail_db(ctx);
    json_t *msgs = NULL;
    if (!db ||
        portail_db_exec(db,
                        "UPDATE messaging_messages SET read_at = UTC_TIMESTAMP() WHERE "
                        "thread_id = ? AND member_id = ? AND author = ? AND read_at IS NULL",
                        "lls", id, member, agent ? "member" : "agent") < 0 ||
        !(msgs = thread_messages(db, id, member))) {
        fail(ctx);
        return;
    }
    thread_json(st, t);
    if (agent) {
        flag_overdue(st, t);
        const struct service *svc = service_of(st, portail_row_str(t, "service"));
        if (svc)
            json_object_set_new(t, "service_info", service_agent_json(st, svc));
    }
    json_object_set(t, "messages", msgs);
    portail_respond_json(ctx, 200, json_incref(t));
}

/* The agents' answers the signed-in member has not opened yet, or -1. */
static long long unread_answers(portail_ctx_t *ctx)
{
    json_t *row = portail_member_row(ctx,
                                     "SELECT COUNT(*) AS n FROM messaging_messages WHERE "
                                     "member_id = {member} AND author = 'agent' AND "
                                     "read_at IS NULL",
                                     "");
    return row ? portail_row_int(row, "n", 0) : -1;
}

/* ---- GET /api/v1/messages/recipients --------------------------------------- */
static void recipients(portail_ctx_t *ctx)
{
    const struct messaging_state *st = portail_module_state(ctx);
    json_t *list = json_array();
    for (size_t i = 0; i < st->nservices; i++) {
        json_t *s = service_json(&st->services[i]);
        json_object_del(s, "team");
        json_array_append_new(list, s);
    }
    portail_respond_json(ctx, 200, json_pack("{s:o}", "recipients", list));
}

/* ---- POST /api/v1/messages (multipart: recipient, subject, body, files) ---- */
/* The thread, its first message and the files, rerun whole on a 1213/1205
 * (portail_tx_retry) as a reply is. */
struct thread_new {
    const struct service *svc;
    const char *subject, *body;
    portail_doc_batch_t *files;
};

static int thread_new_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    const struct thread_new *t = arg;
    json_t *docs;
    if (portail_documents_insert(ctx, t->files, &docs) != 0 ||
        portail_member_exec(ctx,
                            "INSERT INTO messaging_threads (member_id, service, subject) VALUES "
                            "({member}, ?, ?)",
                            "ss", t->svc->code, t->subject) != 1)
        return -1;
    long long thread = (long long)portail_db_insert_id(db);
    long long msg =
        message_add(db, thread, (long long)portail_principal(ctx)->id, "member", 0, t->body, docs);
    if (msg < 0)
        return -1;
    portail_respond_json(ctx, 201,
                         json_pack("{s:I, s:I, s:s, s:s, s:s, s:O}", "id", (json_int_t)thread,
                                   "message_id", (json_int_t)msg, "service", t->svc->code,
                                   "subject", t->subject, "status", "open", "attachments", docs));
    return 0;
}

static void thread_new(portail_ctx_t *ctx)
{
    const struct messaging_state *st = portail_module_state(ctx);
    json_t *errors = NULL;
    const char *code = portail_req_form(ctx, "recipient");
    const struct service *svc = service_of(st, code);
    if (!svc)
        portail_field_error(&errors, "recipient", TXT_MESSAGING_CHOISISSEZ_DESTINATAIRE);
    else if (!svc->open)
        portail_field_error(&errors, "recipient", TXT_MESSAGING_SERVICE_FERME);
    const char *subject = text_field(ctx, "subject", SUBJECT_MAX_CHARS, "l'objet", &errors);
    const char *body = text_field(ctx, "body", BODY_MAX_CHARS, "votre message", &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    if (rate_check(ctx) != 0)
        return;
    struct thread_new t = {.svc = svc, .subject = subject, .body = body};
    if (check_files(ctx, 0, &t.files) != 0)
        return;
    portail_tx_retry(ctx, thread_new_tx, &t);
}

/* ---- POST /api/v1/messages/{thread}/reply --------------------------------- */
static void thread_reply(portail_ctx_t *ctx)
{
    int64_t id;
    json_t *t = member_thread(ctx, "id, status", &id);
    if (!t)
        return;
    if (strcmp(portail_row_str(t, "status"), "closed") == 0) {
        portail_problem(ctx, 409, NULL, TXT_MESSAGING_CONVERSATION_CLOSE_ECRIVEZ);
        return;
    }
    json_t *errors = NULL;
    const char *body = text_field(ctx, "body", BODY_MAX_CHARS, "votre message", &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    if (rate_check(ctx) != 0)
        return;
    struct reply r = {
        .thread = (long long)id, .member = (long long)portail_principal(ctx)->id, .body = body};
    if (check_files(ctx, 0, &r.files) != 0)
        return;
    portail_tx_retry(ctx, reply_tx, &r);
}

/* A page of the member's threads: limit + 1 rows are asked, the last only
 * to tell that a next page exists; its cursor is the last_message_id of
 * the last thread written. Each row also carries the member's unread
 * answers (unread_total, the same in every row). */
struct thread_page {
    const struct messaging_state *st;
    long long limit;
    long long last;
    long long unread; /* -1 until a row came */
};

/* A thread of the list, as thread_json makes it: the row and its
 * service's label. */
static int thread_item(portail_jw_t *w, portail_dbrow_t *row, void *arg)
{
    static const char *const skip[] = {"unread_total", NULL};
    struct thread_page *page = arg;
    if (page->unread < 0)
        page->unread = portail_dbrow_int(row, "unread_total", 0);
    if ((long long)portail_dbrow_index(row) >= page->limit)
        return 0;
    page->last = portail_dbrow_int(row, "last_message_id", 0);
    const struct service *s = service_of(page->st, portail_dbrow_str(row, "service"));
    portail_jw_open(w, '{');
    portail_dbrow_fields(w, row, skip);
    portail_jw_key(w, "service_label");
    portail_jw_str(w, s ? s->label : "");
    return portail_jw_close(w, '}');
}

/* ---- GET /api/v1/messages?box=inbox|sent|archived&q=&limit=&cursor= -------- */
static void threads_list(portail_ctx_t *ctx)
{
    const struct messaging_state *st = portail_module_state(ctx);
    const char *box = portail_req_query(ctx, "box");
    if (!box || !*box)
        box = "inbox";
    const char *where;
    if (strcmp(box, "inbox") == 0)
        where = "t.archived = 0";
    else if (strcmp(box, "sent") == 0)
        where = "t.archived = 0 AND t.last_author = 'member'";
    else if (strcmp(box, "archived") == 0)
        where = "t.archived = 1";
    else {
        portail_problem(ctx, 400, NULL, TXT_MESSAGING_BOITE_INCONNUE);
        return;
    }
    long long limit, cursor;
    if (portail_query_int(ctx, "limit", 1, st->page_max, 20, &limit) != 0 ||
        portail_query_int(ctx, "cursor", 0, (long long)1 << 62, 0, &cursor) != 0)
        return;
    const char *q = portail_req_query(ctx, "q");
    if (q && (strlen(q) > QUERY_MAX_BYTES || !portail_utf8_valid(q, strlen(q)) ||
              utf8_chars(q) > QUERY_MAX_CHARS)) {
        portail_problem(ctx, 400, NULL, TXT_MESSAGING_RECHERCHE_TROP_LONGUE);
        return;
    }
    /* LIKE pattern: the member's words are escaped, never wildcards. */
    portail_arena_t *a = portail_arena(ctx);
    const char *pat = NULL;
    if (q && *q) {
        char *p = portail_alloc(a, strlen(q) * 2 + 3), *w = p;
        *w++ = '%';
        for (const char *r = q; *r; r++) {
            if (*r == '%' || *r == '_' || *r == '\\')
                *w++ = '\\';
            *w++ = *r;
        }
        *w++ = '%';
        *w = '\0';
        pat = p;
    }
    const char *sql = portail_sprintf(
        a,
        "SELECT t.id, t.service, t.subject, t.status, t.created_at, t.last_activity_at, "
        "t.last_message_id, t.last_author, "
        /* Per row on purpose: the rows come in index order with LIMIT, so
         * the count runs for the page only (a joined aggregate reads every
         * unread answer of the member, with a temporary table). */
        "(SELECT COUNT(*) FROM messaging_messages m WHERE m.thread_id = t.id AND "
        "m.author = 'agent' AND m.read_at IS NULL) AS unread, "
        /* Not correlated: counted once per page, and no statement of its
         * own (a page without rows asks unread_answers). */
        "(SELECT COUNT(*) FROM messaging_messages u WHERE u.member_id = {member} AND "
        "u.author = 'agent' AND u.read_at IS NULL) AS unread_total "
        "FROM messaging_threads t WHERE t.member_id = {member} AND %s "
        "AND (? = 0 OR t.last_message_id < ?) "
        "AND (? IS NULL OR t.subject LIKE ? OR EXISTS (SELECT 1 FROM messaging_messages b "
        "WHERE b.thread_id = t.id AND b.member_id = {member} AND b.body LIKE ?)) "
        "ORDER BY t.last_message_id DESC LIMIT ?",
        where);
    /* Written as the rows come (portail_member_rows_json): the same bytes
     * as the jansson objects, a third fewer instructions (docs/performance.md). */
    portail_jw_t *w = portail_jw_new(a);
    portail_jw_open(w, '{');
    portail_jw_key(w, "threads");
    portail_jw_open(w, '[');
    struct thread_page page = {.st = st, .limit = limit, .unread = -1};
    long long n = portail_member_rows_json(ctx, w, thread_item, &page, sql, "llsssl", cursor,
                                           cursor, pat, pat, pat, limit + 1);
    long long unread = n < 0 ? -1 : n > 0 ? page.unread : unread_answers(ctx);
    if (unread < 0) {
        fail(ctx);
        return;
    }
    portail_jw_close(w, ']');
    portail_jw_key(w, "unread");
    portail_jw_int(w, unread);
    portail_jw_key(w, "next_cursor");
    if (n > limit)
        portail_jw_str(w, portail_sprintf(a, "%lld", page.last));
    else
        portail_jw_null(w);
    portail_jw_close(w, '}');
    portail_respond_jw(ctx, 200, w);
}

/* ---- GET /api/v1/messages/{thread} ---------------------------------------- */
static void thread_get(portail_ctx_t *ctx)
{
    int64_t id;
    json_t *t = member_thread(
        ctx, "id, service, subject, status, archived, created_at, last_activity_at", &id);
    if (!t)
        return;
    thread_show(ctx, t, (long long)id, (long long)portail_principal(ctx)->id, 0);
}

/* ---- POST /api/v1/messages/{thread}/archive ------------------------------- */
static void thread_archive(portail_ctx_t *ctx)
{
    int64_t id;
    if (!member_thread(ctx, "id", &id))
        return;
    if (portail_member_exec(ctx,
                            "UPDATE messaging_threads SET archived = 1 WHERE id = ? AND "
                            "member_id = {member}",
                            "l", (long long)id) < 0) {
        fail(ctx);
        return;
    }
    portail_respond_empty(ctx, 204);
}

/* ---- GET /api/v1/messages/{thread}/attachments/{doc} ----------------------- */
static void attachment_get(portail_ctx_t *ctx)
{
    int64_t id, doc;
    if (portail_req_param_i64(ctx, "thread", &id) != 0 ||
        portail_req_param_i64(ctx, "doc", &doc) != 0)
        return;
    json_t *r = portail_member_row(ctx,
                                   "SELECT document_id FROM messaging_attachments WHERE "
                                   "thread_id = ? AND document_id = ? AND member_id = {member}",
                                   "ll", (long long)id, (long long)doc);
    if (!r) {
        if (portail_responded(ctx) || portail_db_failed(portail_db(ctx)))
            fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_MESSAGING_PIECE_JOINTE_INCONNUE);
        return;
    }
    portail_document_send(ctx, doc, PORTAIL_ATTACHMENT);
}

/* ---- summary card ---------------------------------------------------------- */
static int summary(portail_ctx_t *ctx, void **card)
{
    long long n = unread_answers(ctx);
    if (n < 0)
        return -1;
    *card = json_pack("{s:s, s:s, s:s, s:I, s:I}", "title", TXT_MESSAGING_MA_MESSAGERIE, "text",
                      n == 0 ? TXT_MESSAGING_CARTE_AUCUNE_REPONSE
                             : portail_sprintf(portail_arena(ctx),
                                               TXT_MESSAGING_CARTE_REPONSES_NON_LUES, n,
                                               n > 1 ? "s" : "", n > 1 ? "s" : ""),
                      "href", "/messaging/", "count", (json_int_t)n, "badge", (json_int_t)n);
    return *card ? 0 : -1;
}

/* ---- back office ------------------------------------------------------------
 * Agents act on explicit threads: plain portail_db_* queries, the member named
 * for the core's audit row by portail_audit_subject. */

/* The services the agent acts on, as a comma list for FIND_IN_SET: those
 * whose team lists the agent (messaging_agent_teams); *all set for a
 * supervisor (messaging.supervise), who sees every service. 0, or -1 with
 * a 500 set. */
static int agent_services(portail_ctx_t *ctx, const char **csv, long long *all)
{
    const struct messaging_state *st = portail_module_state(ctx);
    *csv = "";
    *all = portail_permitted(ctx, "messaging.supervise") ? 1 : 0;
    if (*all)
        return 0;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    json_t *rows = portail_db_rows(db, "SELECT team FROM messaging_agent_teams WHERE agent_id = ?",
                                   "l", (long long)portail_principal(ctx)->id);
    if (!rows) {
        fail(ctx);
        return -1;
    }
    const char *out = "";
    for (size_t i = 0; i < st->nservices; i++) {
        size_t k;
        json_t *r;
        json_array_foreach(rows, k, r)
        {
            if (strcmp(portail_row_str(r, "team"), st->services[i].team) == 0) {
                out = portail_sprintf(portail_arena(ctx), "%s%s%s", out, *out ? "," : "",
                                      st->services[i].code);
                break;
            }
        }
    }
    *csv = out;
    return 0;
}

/* Nonzero when the agent acts on service code (csv from agent_services). */
static int service_allowed(const char *csv, long long all, const char *code)
{
    if (all)
        return 1;
    size_t n = strlen(code);
    for (const char *p = csv; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, code, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* The thread row, or NULL with a 404 (or 500) set; a thread of a service
 * outside the agent's teams is a 404 as well. */
static json_t *bo_thread(portail_ctx_t *ctx, int64_t *id)
{
    if (portail_req_param_i64(ctx, "thread", id) != 0)
        return NULL;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return NULL;
    json_t *t = portail_db_row(db,
                               "SELECT id, member_id, service, subject, status, agent_id, "
                               "created_at, last_activity_at, last_author, "
                               "TIMESTAMPDIFF(HOUR, last_activity_at, UTC_TIMESTAMP()) AS "
                               "waiting_hours FROM messaging_threads WHERE id = ?",
                               "l", (long long)*id);
    if (!t) {
        if (portail_db_failed(db))
            fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_MESSAGING_CONVERSATION_INCONNUE);
        return NULL;
    }
    const char *csv;
    long long all;
    if (agent_services(ctx, &csv, &all) != 0)
        return NULL;
    if (!service_allowed(csv, all, portail_row_str(t, "service"))) {
        portail_problem(ctx, 404, NULL, TXT_MESSAGING_CONVERSATION_INCONNUE);
        return NULL;
    }
    portail_audit_subject(ctx, portail_row_int(t, "member_id", 0));
    return t;
}

/* GET BO/threads?service=&filter=all|unassigned|mine|waiting&limit=&cursor= */
static void bo_threads(portail_ctx_t *ctx)
{
    const struct messaging_state *st = portail_module_state(ctx);
    const char *service = portail_req_query(ctx, "service");
    if (service && *service && !service_of(st, service)) {
        portail_problem(ctx, 400, NULL, TXT_MESSAGING_SERVICE_INCONNU);
        return;
    }
    const char *filter = portail_req_query(ctx, "filter");
    const char *cond;
    long long mine = 0; /* the agent's id for "mine", bound in every query */
    if (!filter || !*filter || strcmp(filter, "all") == 0)
        cond = "t.status <> 'closed'";
    else if (strcmp(filter, "unassigned") == 0)
        cond = "t.status <> 'closed' AND t.agent_id IS NULL";
    else if (strcmp(filter, "mine") == 0) {
        cond = "t.status <> 'closed'";
        mine = (long long)portail_principal(ctx)->id;
    } else if (strcmp(filter, "waiting") == 0)
        cond = "t.status = 'answered'";
    else if (strcmp(filter, "closed") == 0)
        cond = "t.status = 'closed'";
    else {
        portail_problem(ctx, 400, NULL, TXT_MESSAGING_FILTRE_INCONNU);
        return;
    }
    long long limit, cursor, age;
    if (portail_query_int(ctx, "limit", 1, st->page_max, 20, &limit) != 0 ||
        portail_query_int(ctx, "cursor", 0, (long long)1 << 62, 0, &cursor) != 0 ||
        portail_query_int(ctx, "older_than_hours", 0, 100000, 0, &age) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    const char *csv;
    long long all;
    if (agent_services(ctx, &csv, &all) != 0)
        return;
    const char *sql = portail_sprintf(
        portail_arena(ctx),
        "SELECT t.id, t.member_id, t.service, t.subject, t.status, t.agent_id, t.created_at, "
        "t.last_activity_at, t.last_message_id, t.last_author, "
        "TIMESTAMPDIFF(HOUR, t.last_activity_at, UTC_TIMESTAMP()) AS waiting_hours, "
        "(SELECT COUNT(*) FROM messaging_messages m WHERE m.thread_id = t.id AND "
        "m.author = 'member' AND m.read_at IS NULL) AS unread "
        "FROM messaging_threads t WHERE %s AND (? = 0 OR t.agent_id = ?) "
        "AND (? = '' OR t.service = ?) "
        "AND (? = 1 OR FIND_IN_SET(t.service, ?) > 0) "
        "AND (? = 0 OR t.last_activity_at <= UTC_TIMESTAMP() - INTERVAL ? HOUR) "
        "AND (? = 0 OR t.last_message_id < ?) ORDER BY t.last_message_id DESC LIMIT ?",
        cond);
    const char *svc = service && *service ? service : "";
    json_t *rows = portail_db_rows(db, sql, "llsslslllll", mine, mine, svc, svc, all, csv, age, age,
                                   cursor, cursor, limit + 1);
    if (!rows) {
        fail(ctx);
        return;
    }
    json_t *next = page_cut(rows, limit);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        thread_json(st, r);
        flag_overdue(st, r);
    }
    json_t *svcs = json_array();
    for (size_t k = 0; k < st->nservices; k++) {
        json_t *sj = service_agent_json(st, &st->services[k]);
        /* Every service stays listed (reassignment); "mine" marks the agent's. */
        json_object_set_new(sj, "mine",
                            json_boolean(service_allowed(csv, all, st->services[k].code)));
        json_array_append_new(svcs, sj);
    }
    portail_respond_json(
        ctx, 200,
        json_pack("{s:O, s:o, s:o}", "threads", rows, "next_cursor", next, "services", svcs));
}

/* GET BO/threads/{thread}: the conversation; the agent's reading is the
 * read receipt of the member's messages. */
static void bo_thread_get(portail_ctx_t *ctx)
{
    int64_t id;
    json_t *t = bo_thread(ctx, &id);
    if (t)
        thread_show(ctx, t, (long long)id, portail_row_int(t, "member_id", 0), 1);
}

/* POST BO/threads/{thread}/reassign {service, reason}: to another service,
 * unassigned, the reason in the audit row. */
static void bo_reassign(portail_ctx_t *ctx)
{
    const struct messaging_state *st = portail_module_state(ctx);
    int64_t id;
    json_t *t = bo_thread(ctx, &id);
    if (!t)
        return;
    json_t *errors = NULL;
    json_t *j = portail_req_json(ctx);
    const char *code = portail_json_str(j, "service", 1, 16, &errors);
    const char *reason = portail_json_str(j, "reason", 5, 500, &errors);
    if (code && !service_of(st, code))
        portail_field_error(&errors, "service", TXT_MESSAGING_SERVICE_INCONNU);
    else if (code && strcmp(code, portail_row_str(t, "service")) == 0)
        portail_field_error(&errors, "service", TXT_MESSAGING_CONVERSATION_DEJA_SERVICE);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    if (portail_db_exec(portail_db(ctx),
                        "UPDATE messaging_threads SET service = ?, agent_id = NULL WHERE id = ?",
                        "sl", code, (long long)id) < 0) {
        fail(ctx);
        return;
    }
    portail_audit_reason(ctx, reason);
    portail_respond_json(ctx, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "service", code));
}

/* The threads of service s waiting for the fund (the member wrote last):
 * {waiting, overdue (past the target), oldest_since, oldest_id}; NULL on a
 * database error. The backlog's and the daily report's counts. */
static json_t *service_waiting(portail_db_t *db, const struct service *s)
{
    return portail_db_row(
        db,
        "SELECT COUNT(*) AS waiting, "
        "CAST(COALESCE(SUM(last_activity_at <= UTC_TIMESTAMP() - INTERVAL ? HOUR), 0) AS "
        "SIGNED) AS overdue, MIN(last_activity_at) AS oldest_since, "
        "(SELECT id FROM messaging_threads o WHERE o.service = ? AND o.status <> 'closed' "
        "AND o.last_author = 'member' ORDER BY o.last_activity_at, o.id LIMIT 1) AS oldest_id "
        "FROM messaging_threads WHERE service = ? AND status <> 'closed' "
        "AND last_author = 'member'",
        "lss", s->target_hours, s->code, s->code);
}

/* GET BO/backlog: per service, the threads waiting for the fund, those past
 * the target, and the oldest waiting one. */
static void bo_backlog(portail_ctx_t *ctx)
{
    const struct messaging_state *st = portail_module_state(ctx);
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    json_t *out = json_array();
    portail_arena_json(portail_arena(ctx), out);
    for (size_t i = 0; i < st->nservices; i++) {
        const struct service *s = &st->services[i];
        json_t *r = service_waiting(db, s);
        if (!r) {
            fail(ctx);
            return;
        }
        json_object_set_new(r, "service", json_string(s->code));
        json_object_set_new(r, "label", json_string(s->label));
        json_object_set_new(r, "target_hours", json_integer((json_int_t)s->target_hours));
        json_array_append(out, r);
    }
    portail_respond_json(ctx, 200, json_pack("{s:O}", "services", out));
}

/* POST BO/threads/{thread}/take */
static void bo_take(portail_ctx_t *ctx)
{
    int64_t id;
    if (!bo_thread(ctx, &id))
        return;
    if (portail_db_exec(portail_db(ctx), "UPDATE messaging_threads SET agent_id = ? WHERE id = ?",
                        "ll", (long long)portail_principal(ctx)->id, (long long)id) < 0) {
        fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200,
                         json_pack("{s:I, s:I}", "id", (json_int_t)id, "agent_id",
                                   (json_int_t)portail_principal(ctx)->id));
}

/* POST BO/threads/{thread}/reply {body}: the answer, the thread answered
 * and taken, the member notified (the mail of the core carries no detail). */
static void bo_reply(portail_ctx_t *ctx)
{
    int64_t id;
    json_t *t = bo_thread(ctx, &id);
    if (!t)
        return;
    if (strcmp(portail_row_str(t, "status"), "closed") == 0) {
        portail_problem(ctx, 409, NULL, TXT_MESSAGING_CONVERSATION_CLOSE);
        return;
    }
    /* JSON or a form: the same check, in characters (the core's JSON parser
     * refuses \u0000). */
    json_t *errors = NULL;
    json_t *j = portail_req_json(ctx);
    const char *raw =
        j ? json_string_value(json_object_get(j, "body")) : portail_req_form(ctx, "body");
    const char *body =
        text_check(ctx, raw, "body", BODY_MAX_CHARS, TXT_MESSAGING_LA_REPONSE, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    long long member = portail_row_int(t, "member_id", 0);
    long long agent = (long long)portail_principal(ctx)->id;
    /* A multipart answer's files become the member's documents (a JSON
     * one has none). */
    struct reply r = {.thread = (long long)id, .member = member, .agent = agent, .body = body};
    if (check_files(ctx, member, &r.files) != 0)
        return;
    portail_tx_retry(ctx, reply_tx, &r);
}

/* POST BO/threads/{thread}/close */
static void bo_close(portail_ctx_t *ctx)
{
    int64_t id;
    if (!bo_thread(ctx, &id))
        return;
    if (portail_db_exec(portail_db(ctx),
                        "UPDATE messaging_threads SET status = 'closed' WHERE id = ?", "l",
                        (long long)id) < 0) {
        fail(ctx);
        return;
    }
    portail_respond_json(ctx, 200,
                         json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "closed"));
}

/* GET BO/threads/{thread}/attachments/{doc}: the core names the owner in
 * the audit row. */
static void bo_attachment_get(portail_ctx_t *ctx)
{
    int64_t id, doc;
    if (portail_req_param_i64(ctx, "thread", &id) != 0 ||
        portail_req_param_i64(ctx, "doc", &doc) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return;
    const char *csv;
    long long all;
    if (agent_services(ctx, &csv, &all) != 0)
        return;
    json_t *r = portail_db_row(db,
                               "SELECT a.member_id FROM messaging_attachments a JOIN "
                               "messaging_threads t ON t.id = a.thread_id WHERE a.thread_id = ? "
                               "AND a.document_id = ? AND (? = 1 OR FIND_IN_SET(t.service, ?) > 0)",
                               "llls", (long long)id, (long long)doc, all, csv);
    if (!r) {
        if (portail_db_failed(db))
            fail(ctx);
        else
            portail_problem(ctx, 404, NULL, TXT_MESSAGING_PIECE_JOINTE_INCONNUE);
        return;
    }
    portail_audit_subject(ctx, portail_row_int(r, "member_id", 0));
    portail_document_send(ctx, doc, PORTAIL_ATTACHMENT);
}

/* ---- the supervisors' daily report ------------------------------------------
 * Counts only (no member, no subject): the threads waiting for the fund and
 * those past their service's target, mailed to every supervisor with an
 * address; then the next run is queued for tomorrow unless one already is
 * (a run repeated after a lost lease queues nothing more). */
typedef struct report_tx {
    portail_arena_t *a;
    json_t *sups;
    const char *const *vars;
} report_tx_t;

/* The mails and the next run: together, rerun on a 1213/1205 rather than
 * after the job's backoff (on a Galera cluster a write through another
 * node, to the jobs for one, aborts it at COMMIT). */
static int report_tx(portail_db_t *db, void *arg)
{
    const report_tx_t *t = arg;
    size_t i;
    json_t *sup;
    json_array_foreach(t->sups, i, sup)
    {
        if (portail_mail_template(db, t->a, portail_row_str(sup, "email"), "messaging_report",
                                  t->vars) != 0)
            return -1;
    }
    json_t *next = portail_db_row(db,
                                  "SELECT COUNT(*) AS n FROM jobs WHERE kind = "
                                  "'messaging.report' AND state = 'queued'",
                                  "");
    if (!next || (portail_row_int(next, "n", 1) == 0 &&
                  portail_job_enqueue(db, "messaging.report", NULL, 86400, NULL) != 0))
        return -1;
    return 0;
}

static int job_report(portail_job_t *job)
{
    const struct messaging_state *st = portail_job_state(job);
    portail_db_t *db = portail_job_db(job);
    portail_arena_t *a = portail_job_arena(job);
    if (!st || !db) {
        portail_job_set_error(job, "no state or no database");
        return -1;
    }
    /* mail/messaging_report.txt: greeting, signature and HTML part as every
     * mail. */
    char *lines = portail_sprintf(a, "%s", "");
    long long total = 0;
    for (size_t i = 0; i < st->nservices; i++) {
        const struct service *s = &st->services[i];
        json_t *r = service_waiting(db, s);
        if (!r) {
            portail_job_set_error(job, "count failed");
            return -1;
        }
        long long overdue = portail_row_int(r, "overdue", 0);
        total += overdue;
        lines = portail_sprintf(a, TXT_MESSAGING_RAPPORT_LIGNE, lines, s->label,
                                portail_row_int(r, "waiting", 0), overdue, s->target_hours);
    }
    json_t *sups =
        portail_db_rows(db,
                        "SELECT email FROM agents WHERE role = 'supervisor' AND "
                        "disabled_at IS NULL AND email IS NOT NULL ORDER BY id LIMIT 500",
                        "");
    if (!sups) {
        portail_job_set_error(job, "supervisors not read");
        return -1;
    }
    const char *late = portail_sprintf(a, "%lld conversation%s", total, total > 1 ? "s" : "");
    const char *const vars[] = {"late", late, "lines", lines, NULL};
    report_tx_t t = {.a = a, .sups = sups, .vars = vars};
    if (portail_db_tx_retry(db, report_tx, &t, NULL) != 0) {
        portail_job_set_error(job, "report not queued");
        return -1;
    }
    portail_job_log_info(job, "report mailed to %zu supervisors", json_array_size(sups));
    return 0;
}

/* ---- the teams (messaging_agent_teams), kept by the supervisors ---------- */

/* The configured team {team} of the path, or NULL with a 404 set. */
static const char *team_param(portail_ctx_t *ctx)
{
    const struct messaging_state *st = portail_module_state(ctx);
    const char *team = portail_req_param(ctx, "team");
    for (size_t i = 0; team && i < st->nservices; i++)
        if (strcmp(st->services[i].team, team) == 0)
            return st->services[i].team;
    portail_problem(ctx, 404, NULL, TXT_MESSAGING_EQUIPE_INCONNUE);
    return NULL;
}

/* GET BO/teams: each team of the services (config order, once) with the
 * labels of its services and its agents. */
static void bo_teams(portail_ctx_t *ctx)
{
    const struct messaging_state *st = portail_module_state(ctx);
    portail_db_t *db = portail_db(ctx);
    json_t *rows = db ? portail_db_rows(db,
                                        "SELECT m.team, a.id, a.login, a.display_name, "
                                        "a.disabled_at IS NOT NULL AS disabled "
                                        "FROM messaging_agent_teams m JOIN agents a ON "
                                        "a.id = m.agent_id ORDER BY a.login LIMIT 5000",
                                        "")
                      : NULL;
    if (!rows) {
        fail(ctx);
        return;
    }
    json_t *teams = json_array();
    for (size_t i = 0; i < st->nservices; i++) {
        const char *team = st->services[i].team;
        size_t seen = 0;
        while (seen < i && strcmp(st->services[seen].team, team) != 0)
            seen++;
        if (seen < i)
            continue;
        json_t *labels = json_array(), *agents = json_array();
        for (size_t k = i; k < st->nservices; k++)
            if (strcmp(st->services[k].team, team) == 0)
                json_array_append_new(labels, json_string(st->services[k].label));
        size_t k;
        json_t *r;
        json_array_foreach(rows, k, r)
        {
            if (strcmp(portail_row_str(r, "team"), team) == 0)
                json_array_append_new(
                    agents, json_pack("{s:O, s:O, s:O, s:b}", "id", json_object_get(r, "id"),
                                      "login", json_object_get(r, "login"), "display_name",
                                      json_object_get(r, "display_name"), "disabled",
                                      (int)portail_row_int(r, "disabled", 0)));
        }
        json_array_append_new(teams, json_pack("{s:s, s:o, s:o}", "team", team, "services", labels,
                                               "agents", agents));
    }
    portail_respond_json(ctx, 200, json_pack("{s:o}", "teams", teams));
}

/* POST BO/teams/{team}/agents {login}: an active agent into the team;
 * 409 when already in it. */
static void bo_team_add(portail_ctx_t *ctx)
{
    const char *team = team_param(ctx);
    if (!team)
        return;
    json_t *errors = NULL;
    const char *login = portail_json_str(portail_req_json(ctx), "login", 1, 64, &errors);
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    json_t *a = db ? portail_db_row(db,
                                    "SELECT id, login, display_name FROM agents WHERE login = ? "
                                    "AND disabled_at IS NULL",
                                    "s", login)
                   : NULL;
    if (!a) {
        if (!db || portail_db_failed(db)) {
            fail(ctx);
            return;
        }
        portail_field_error(&errors, "login", TXT_MESSAGING_AGENT_INCONNU);
        portail_problem_fields(ctx, errors);
        return;
    }
    long long agent = portail_row_int(a, "id", 0);
    int n = portail_db_exec(db,
                            "INSERT IGNORE INTO messaging_agent_teams (agent_id, team) "
                            "VALUES (?, ?)",
                            "ls", agent, team);
    if (n < 0) {
        fail(ctx);
        return;
    }
    if (n == 0) {
        portail_problem(ctx, 409, NULL, TXT_MESSAGING_AGENT_DEJA_DANS_EQUIPE);
        return;
    }
    portail_audit_reason(ctx, portail_sprintf(portail_arena(ctx), TXT_MESSAGING_AUDIT_AJOUT_AGENT,
                                              team, portail_row_str(a, "login"), agent));
    portail_respond_json(ctx, 201,
                         json_pack("{s:s, s:I, s:s, s:s}", "team", team, "id", (json_int_t)agent,
                                   "login", portail_row_str(a, "login"), "display_name",
                                   portail_row_str(a, "display_name")));
}

/* DELETE BO/teams/{team}/agents/{agent}: 404 when not in the team. */
static void bo_team_remove(portail_ctx_t *ctx)
{
    const char *team = team_param(ctx);
    int64_t agent;
    if (!team || portail_req_param_i64(ctx, "agent", &agent) != 0)
        return;
    portail_db_t *db = portail_db(ctx);
    json_t *a =
        db ? portail_db_row(db, "SELECT login FROM agents WHERE id = ?", "l", (long long)agent)
           : NULL;
    if (!a && (!db || portail_db_failed(db))) {
        fail(ctx);
        return;
    }
    int n =
        a ? portail_db_exec(db, "DELETE FROM messaging_agent_teams WHERE agent_id = ? AND team = ?",
                            "ls", (long long)agent, team)
          : 0;
    if (n < 0) {
        fail(ctx);
        return;
    }
    if (n == 0) {
        portail_problem(ctx, 404, NULL, TXT_MESSAGING_AGENT_PAS_DANS_EQUIPE);
        return;
    }
    portail_audit_reason(ctx, portail_sprintf(portail_arena(ctx), TXT_MESSAGING_AUDIT_RETRAIT_AGENT,
                                              team, portail_row_str(a, "login"), (long long)agent));
    portail_respond_empty(ctx, 204);
}
