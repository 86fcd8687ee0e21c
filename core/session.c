/* Cookie sessions. The cookie carries 32 random bytes; the database keeps
 * only their BLAKE2b-256 hash, so that a copy of the sessions table (backup,
 * replica, SQL injection elsewhere) does not let anyone sign in. */
#include <sodium.h>
#include <string.h>

#include "internal.h"
#include "portail/texts.h"

#define TOKEN_CHARS PORTAIL_SECRET_CHARS
#define CSRF_BYTES 32
#define HASH_BYTES PORTAIL_SECRET_HASH
#define ROLE_MAX 20
#define IP_MAX 45
#define UA_MAX 512

#define COOKIE_ATTRS "; Path=/; HttpOnly; Secure; SameSite=Strict"

typedef struct credentials {
    char cookie[TOKEN_CHARS + 1];
    unsigned char hash[HASH_BYTES];
    char csrf[CSRF_BYTES * 2 + 1];
} credentials_t;

static const char *kind_name(portail_principal_kind_t k)
{
    switch (k) {
    case PORTAIL_PRINCIPAL_MEMBER:
        return "member";
    case PORTAIL_PRINCIPAL_AGENT:
        return "agent";
    default:
        return NULL;
    }
}

/* Both kinds have a partial level (password done, second factor pending);
 * members never get the agent level nor agents the member level. A row or a
 * call that mixes them is refused rather than guessed at. */
static int level_fits(portail_principal_kind_t k, portail_auth_t level)
{
    if (k == PORTAIL_PRINCIPAL_AGENT)
        return level == PORTAIL_AUTH_AGENT || level == PORTAIL_AUTH_PARTIAL;
    if (k == PORTAIL_PRINCIPAL_MEMBER)
        return level == PORTAIL_AUTH_MEMBER || level == PORTAIL_AUTH_PARTIAL;
    return 0;
}

static void new_credentials(credentials_t *c)
{
    unsigned char csrf[CSRF_BYTES];
    portail_secret_new(c->cookie, c->hash);
    randombytes_buf(csrf, sizeof csrf);
    sodium_bin2hex(c->csrf, sizeof c->csrf, csrf, sizeof csrf);
    sodium_memzero(csrf, sizeof csrf);
}

static void clear_principal(portail_ctx_t *ctx)
{
    memset(&ctx->principal, 0, sizeof ctx->principal);
    ctx->principal.kind = PORTAIL_PRINCIPAL_NONE;
    ctx->principal.level = PORTAIL_AUTH_PUBLIC;
    ctx->csrf_token = NULL;
}

static void clear_cookie(portail_ctx_t *ctx)
{
    portail_set_header(ctx, "Set-Cookie", PORTAIL_SESSION_COOKIE "=" COOKIE_ATTRS "; Max-Age=0");
}

/* No Max-Age: the cookie dies with the browser, the row with expires_at. */
static void send_credentials(portail_ctx_t *ctx, const credentials_t *c)
{
    portail_set_header(
        ctx, "Set-Cookie",
        portail_sprintf(ctx->arena, "%s=%s%s", PORTAIL_SESSION_COOKIE, c->cookie, COOKIE_ATTRS));
    portail_set_header(ctx, "X-CSRF-Token", c->csrf);
    ctx->csrf_token = portail_strdup(ctx->arena, c->csrf);
}

static void internal_error(portail_ctx_t *ctx)
{
    portail_problem(ctx, 500, NULL, TXT_SESSION_ENREGISTREMENT_IMPOSSIBLE);
}

/* The session's row, read straight from the result (no jansson object:
 * every request with a cookie reads it). The strings are copied into the
 * arena: the row's are valid only until the next one. */
typedef struct session_row {
    portail_arena_t *arena;
    portail_principal_kind_t kind;
    long long id, principal_id, level, stale, agent_enabled;
    const char *role, *csrf; /* role: the agent's current one for an agent */
} session_row_t;

static const char *row_copy(portail_arena_t *a, portail_dbrow_t *row, const char *col)
{
    const char *v = portail_dbrow_str(row, col);
    return v ? portail_strdup(a, v) : NULL;
}

static int session_read(portail_jw_t *w, portail_dbrow_t *row, void *arg)
{
    (void)w;
    session_row_t *r = arg;
    const char *kind = portail_dbrow_str(row, "kind");
    r->kind = kind && strcmp(kind, "member") == 0  ? PORTAIL_PRINCIPAL_MEMBER
              : kind && strcmp(kind, "agent") == 0 ? PORTAIL_PRINCIPAL_AGENT
                                                   : PORTAIL_PRINCIPAL_NONE;
    r->id = portail_dbrow_int(row, "id", 0);
    r->principal_id = portail_dbrow_int(row, "principal_id", 0);
    r->level = portail_dbrow_int(row, "level", -1);
    r->stale = portail_dbrow_int(row, "stale", 0);
    r->agent_enabled = portail_dbrow_int(row, "agent_enabled", 0);
    r->role = row_copy(r->arena, row, r->kind == PORTAIL_PRINCIPAL_AGENT ? "agent_role" : "role");
    r->csrf = row_copy(r->arena, row, "csrf_token");
    return 0;
}

int portail_session_load(portail_ctx_t *ctx)
{
    clear_principal(ctx);
    ctx->signed_out = NULL;
    const char *value = portail_req_cookie(ctx, PORTAIL_SESSION_COOKIE);
    unsigned char hash[HASH_BYTES];
    if (!value || portail_secret_hash(value, hash) != 0)
        return 0;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    const portail_conf_t *conf = ctx->host->conf;
    /* The throttle must stay well inside the idle timeout, or a session in
     * use would never be touched and would die as if idle. */
    int touch_s = conf->session_touch_s;
    if (touch_s > conf->session_idle_s / 4)
        touch_s = conf->session_idle_s / 4;
    /* An agent's row is read with the session: a disabled agent loses
     * every open session at its next request, and a role changed by
     * `portailctl agent role` counts at once (the session's copy of the
     * role is only what it was at sign-in). */
    session_row_t row = {.arena = ctx->arena};
    long long found = portail_db_rows_json(
        db, NULL, session_read, &row,
        "SELECT s.id, s.kind, s.principal_id, s.level, s.role, s.csrf_token, "
        "s.last_seen_at < UTC_TIMESTAMP() - INTERVAL ? SECOND AS stale, "
        "a.id IS NOT NULL AND a.disabled_at IS NULL AS agent_enabled, a.role AS agent_role "
        "FROM sessions s LEFT JOIN agents a ON s.kind = 'agent' AND a.id = s.principal_id "
        "WHERE s.token_hash = ? AND s.expires_at > UTC_TIMESTAMP() "
        "AND s.last_seen_at > UTC_TIMESTAMP() - INTERVAL ? SECOND",
        "ibi", touch_s, hash, (size_t)HASH_BYTES, conf->session_idle_s);
    if (found < 0)
        return -1;
    if (found == 0) {
        /* Revoked from elsewhere: the holder of this token (and only it:
         * the key is the token's hash) learns why, in the 401 answers. */
        json_t *why = portail_db_row(db,
                                     "SELECT reason FROM session_revocations "
                                     "WHERE token_hash = ? AND expires_at > UTC_TIMESTAMP()",
                                     "b", hash, (size_t)HASH_BYTES);
        const char *reason = why ? portail_row_str(why, "reason") : NULL;
        if (reason && strcmp(reason, "other_device") == 0)
            ctx->signed_out = "other_device";
        else if (reason && strcmp(reason, "agent") == 0)
            ctx->signed_out = "agent";
        /* Expired or revoked: the browser forgets it, and a row that only
         * timed out goes now rather than at the next purge. */
        clear_cookie(ctx);
        if (portail_db_exec(db, "DELETE FROM sessions WHERE token_hash = ?", "b", hash,
                            (size_t)HASH_BYTES) < 0)
            portail_log_warn(ctx, "session: could not delete an expired session");
        return 0;
    }

    portail_principal_kind_t k = row.kind;
    long long level = row.level, sid = row.id, pid = row.principal_id;
    const char *csrf = row.csrf;
    if (level < PORTAIL_AUTH_AGENT || level > PORTAIL_AUTH_PARTIAL ||
        !level_fits(k, (portail_auth_t)level) || !csrf || strlen(csrf) != CSRF_BYTES * 2 ||
        sid <= 0 || pid <= 0) {
        portail_log_error(ctx, "session %lld: inconsistent row ignored", sid);
        clear_cookie(ctx);
        return 0;
    }

    if (k == PORTAIL_PRINCIPAL_AGENT && !row.agent_enabled) {
        /* Signed out, as if revoked: the row goes, the browser forgets. */
        portail_log_info(ctx, "session %lld: agent %lld disabled, session ended", sid, pid);
        clear_cookie(ctx);
        if (portail_db_exec(db, "DELETE FROM sessions WHERE id = ?", "l", sid) < 0)
            portail_log_warn(ctx, "session: could not delete a disabled agent's session");
        return 0;
    }

    ctx->principal.kind = k;
    ctx->principal.id = pid;
    ctx->principal.level = (portail_auth_t)level;
    ctx->principal.session_id = sid;
    ctx->principal.role = row.role;
    ctx->csrf_token = csrf;

    /* Writing last_seen_at on every request would turn each read into a row
     * write; once per touch interval is precise enough for the idle timeout. */
    if (row.stale) {
        const portail_client_t *cl = portail_client(ctx);
        if (portail_db_exec(db,
                            "UPDATE sessions SET last_seen_at = UTC_TIMESTAMP(), ip = ?, "
                            "country = ? WHERE id = ?",
                            "ssl", portail_clip_utf8(ctx->arena, cl->ip, IP_MAX),
                            portail_clip_utf8(ctx->arena, cl->country, 2), (long long)sid) < 0)
            portail_log_warn(ctx, "session %lld: last-seen update failed", sid);
    }
    return 0;
}

static int insert_session(portail_ctx_t *ctx, portail_db_t *db, const credentials_t *c,
                          const char *kind, int64_t id, portail_auth_t level, const char *role)
{
    const portail_client_t *cl = portail_client(ctx);
    long long n = portail_db_exec(
        db,
        "INSERT INTO sessions (token_hash, csrf_token, kind, principal_id, level, role, "
        "expires_at, ip, country, user_agent) "
        "VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP() + INTERVAL ? SECOND, ?, ?, ?)",
        "bsslisisss", c->hash, (size_t)HASH_BYTES, c->csrf, kind, (long long)id, (int)level, role,
        /* Password done, second factor pending: minutes, not hours, to
         * finish signing in. */
        level == PORTAIL_AUTH_PARTIAL ? ctx->host->conf->session_partial_s
                                      : ctx->host->conf->session_absolute_s,
        portail_clip_utf8(ctx->arena, cl->ip, IP_MAX),
        portail_clip_utf8(ctx->arena, cl->country, 2),
        portail_clip_utf8(ctx->arena, cl->user_agent, UA_MAX));
    return n == 1 ? 0 : -1;
}

typedef struct start_tx {
    portail_ctx_t *ctx;
    const credentials_t *c;
    const char *kname;
    int64_t id;
    portail_auth_t level;
    const char *role;
    int64_t old_session;
    int64_t new_session; /* out */
} start_tx_t;

/* A fresh token at every sign-in, and the one the request came with
 * revoked: a token planted before sign-in (fixation) stays worthless. */
static int start_tx(portail_db_t *db, void *arg)
{
    start_tx_t *t = arg;
    if (t->old_session > 0 && portail_db_exec(db, "DELETE FROM sessions WHERE id = ?", "l",
                                              (long long)t->old_session) < 0)
        return -1;
    if (insert_session(t->ctx, db, t->c, t->kname, t->id, t->level, t->role) != 0)
        return -1;
    t->new_session = (int64_t)portail_db_insert_id(db);
    return 0;
}

int portail_session_start(portail_ctx_t *ctx, portail_principal_kind_t kind, int64_t id,
                          portail_auth_t level, const char *role)
{
    const char *kname = kind_name(kind);
    if (kind == PORTAIL_PRINCIPAL_MEMBER)
        role = NULL;
    if (!kname || id <= 0 || !level_fits(kind, level) || (role && strlen(role) > ROLE_MAX)) {
        portail_log_error(ctx, "session_start: refused principal (kind %d, level %d)", (int)kind,
                          (int)level);
        internal_error(ctx);
        return -1;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    credentials_t c;
    new_credentials(&c);
    start_tx_t t = {ctx, &c, kname, id, level, role, ctx->principal.session_id, 0};
    /* Revoking the old session and creating the new one stand together, and
     * both can be rerun: on a Galera cluster two sign-ins of one principal
     * through two nodes may conflict at commit (1213). */
    int rc = portail_db_tx_retry(db, start_tx, &t, NULL);
    if (rc != 0) {
        sodium_memzero(&c, sizeof c);
        internal_error(ctx);
        return -1;
    }
    clear_principal(ctx);
    ctx->principal.kind = kind;
    ctx->principal.id = id;
    ctx->principal.level = level;
    ctx->principal.session_id = t.new_session;
    ctx->principal.role = role ? portail_strdup(ctx->arena, role) : NULL;
    send_credentials(ctx, &c);
    sodium_memzero(&c, sizeof c);
    return 0;
}

/* n < 0: database error; otherwise the session vanished meanwhile. */
static void elevate_failed(portail_ctx_t *ctx, long long n)
{
    if (n < 0) {
        internal_error(ctx);
        return;
    }
    clear_principal(ctx);
    clear_cookie(ctx);
    portail_problem(ctx, 401, NULL, TXT_SESSION_SESSION_EXPIREE);
}

int portail_session_elevate(portail_ctx_t *ctx, portail_auth_t level)
{
    portail_principal_t *p = &ctx->principal;
    if (p->session_id <= 0) {
        portail_problem(ctx, 401, NULL, TXT_SESSION_SESSION_EXPIREE);
        return -1;
    }
    if (!level_fits(p->kind, level)) {
        portail_log_error(ctx, "session_elevate: level %d refused for kind %d", (int)level,
                          (int)p->kind);
        internal_error(ctx);
        return -1;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    credentials_t c;
    new_credentials(&c);
    const portail_client_t *cl = portail_client(ctx);
    /* The new row inherits created_at: the absolute lifetime counts from
     * the sign-in, not from the second factor. A partial row's short
     * expiry is not inherited by the full session. */
    long long n = portail_db_exec(
        db,
        "INSERT INTO sessions (token_hash, csrf_token, kind, principal_id, level, role, "
        "created_at, last_seen_at, expires_at, ip, country, user_agent) "
        "SELECT ?, ?, kind, principal_id, ?, role, created_at, UTC_TIMESTAMP(), "
        "IF(?, expires_at, created_at + INTERVAL ? SECOND), "
        "?, ?, ? FROM sessions WHERE id = ? AND expires_at > UTC_TIMESTAMP()",
        "bsiiisssl", c.hash, (size_t)HASH_BYTES, c.csrf, (int)level,
        level == PORTAIL_AUTH_PARTIAL ? 1 : 0, ctx->host->conf->session_absolute_s,
        portail_clip_utf8(ctx->arena, cl->ip, IP_MAX),
        portail_clip_utf8(ctx->arena, cl->country, 2),
        portail_clip_utf8(ctx->arena, cl->user_agent, UA_MAX), (long long)p->session_id);
    if (n != 1) {
        sodium_memzero(&c, sizeof c);
        elevate_failed(ctx, n);
        return -1;
    }
    int64_t new_id = (int64_t)portail_db_insert_id(db);
    /* Only one of two concurrent elevations of the same session may win:
     * the loser's new row goes too. */
    n = portail_db_exec(db, "DELETE FROM sessions WHERE id = ?", "l", (long long)p->session_id);
    if (n != 1) {
        portail_db_exec(db, "DELETE FROM sessions WHERE id = ?", "l", (long long)new_id);
        sodium_memzero(&c, sizeof c);
        elevate_failed(ctx, n);
        return -1;
    }
    p->level = level;
    p->session_id = new_id;
    send_credentials(ctx, &c);
    sodium_memzero(&c, sizeof c);
    return 0;
}

int portail_session_end(portail_ctx_t *ctx)
{
    int rc = 0;
    if (ctx->principal.session_id > 0) {
        portail_db_t *db = portail_db(ctx);
        if (!db)
            return -1;
        if (portail_db_exec(db, "DELETE FROM sessions WHERE id = ?", "l",
                            (long long)ctx->principal.session_id) < 0) {
            internal_error(ctx);
            rc = -1;
        }
    }
    /* Cleared even when the row could not be deleted: the browser at least
     * stops presenting it. */
    clear_principal(ctx);
    clear_cookie(ctx);
    return rc;
}

json_t *portail_sessions_list(portail_ctx_t *ctx)
{
    const portail_principal_t *p = &ctx->principal;
    const char *kname = kind_name(p->kind);
    if (!kname)
        return portail_arena_json(ctx->arena, json_array());
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return NULL;
    json_t *rows = portail_db_rows(db,
                                   "SELECT id, created_at, last_seen_at, ip, country, user_agent "
                                   "FROM sessions WHERE kind = ? AND principal_id = ? "
                                   "AND expires_at > UTC_TIMESTAMP() "
                                   "AND last_seen_at > UTC_TIMESTAMP() - INTERVAL ? SECOND "
                                   "ORDER BY created_at DESC, id DESC",
                                   "sli", kname, (long long)p->id, ctx->host->conf->session_idle_s);
    if (!rows)
        return NULL;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_object_set_new(row, "current",
                            json_boolean(portail_row_int(row, "id", 0) == p->session_id));
    }
    return rows;
}

/* The reason kept for the sessions a statement is about to delete (by
 * token hash), for as long as each could still have been used: its
 * absolute expiry or its idle timeout, whichever comes first. */
#define BURY_SQL                                                                                   \
    "INSERT INTO session_revocations (token_hash, reason, expires_at) "                            \
    "SELECT token_hash, ?, LEAST(expires_at, last_seen_at + INTERVAL ? SECOND) "                   \
    "FROM sessions WHERE kind = ? AND principal_id = ? AND expires_at > UTC_TIMESTAMP() "          \
    "AND "
#define BURY_UPSERT                                                                                \
    " ON DUPLICATE KEY UPDATE reason = VALUES(reason), expires_at = VALUES(expires_at)"

int portail_session_revoke(portail_ctx_t *ctx, int64_t session_id)
{
    const portail_principal_t *p = &ctx->principal;
    const char *kname = kind_name(p->kind);
    if (!kname || session_id <= 0)
        return 1;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    /* Scoped to the caller's own sessions: someone else's id is "not found",
     * exactly like an id that does not exist. Another device of the
     * caller's is told why at its next request. */
    if (session_id != p->session_id &&
        portail_db_exec(db, BURY_SQL "id = ?" BURY_UPSERT, "sisll", "other_device",
                        ctx->host->conf->session_idle_s, kname, (long long)p->id,
                        (long long)session_id) < 0)
        return -1;
    long long n =
        portail_db_exec(db, "DELETE FROM sessions WHERE id = ? AND kind = ? AND principal_id = ?",
                        "lsl", (long long)session_id, kname, (long long)p->id);
    if (n < 0)
        return -1;
    if (n == 0)
        return 1;
    if (session_id == p->session_id) {
        clear_principal(ctx);
        clear_cookie(ctx);
    }
    return 0;
}

long long portail_sessions_revoke_others(portail_ctx_t *ctx)
{
    const portail_principal_t *p = &ctx->principal;
    if (p->session_id <= 0)
        return -1;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    return portail_sessions_revoke_all_why(ctx, db, p->kind, p->id, p->session_id, "other_device");
}

long long portail_sessions_revoke_all_why(portail_ctx_t *ctx, portail_db_t *db,
                                          portail_principal_kind_t kind, int64_t id, int64_t except,
                                          const char *why)
{
    const char *kname = kind_name(kind);
    if (!db || !kname || id <= 0 || !why ||
        (strcmp(why, "other_device") != 0 && strcmp(why, "agent") != 0))
        return -1;
    if (portail_db_exec(db, BURY_SQL "id <> ?" BURY_UPSERT, "sisll", why,
                        ctx->host->conf->session_idle_s, kname, (long long)id,
                        (long long)except) < 0)
        return -1;
    return portail_sessions_revoke_all(db, kind, id, except);
}

long long portail_sessions_revoke_all(portail_db_t *db, portail_principal_kind_t kind, int64_t id,
                                      int64_t except)
{
    const char *kname = kind_name(kind);
    if (!db || !kname || id <= 0)
        return -1;
    return portail_db_exec(db,
                           "DELETE FROM sessions WHERE kind = ? AND principal_id = ? AND id <> ?",
                           "sll", kname, (long long)id, (long long)except);
}
