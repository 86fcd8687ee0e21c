/* Module login: the SQL. Every statement is prepared through the typed
 * helpers; rows come back as arena-owned records. */
#include <string.h>

#include "login.h"

/* ---- members ----------------------------------------------------------------- */

#define MEMBER_COLUMNS                                                                             \
    "SELECT m.id, m.insured_id, i.nir, i.first_name, i.last_name, i.birth_date, m.email, "         \
    "i.fund, m.password_hash, m.totp_secret, m.totp_last_step, "                                   \
    "IF(m.totp_pending_at > UTC_TIMESTAMP() - INTERVAL ? SECOND, m.totp_pending, NULL) "           \
    "AS totp_pending, m.totp_reenrol_required_at IS NOT NULL AS reenrol_required "                 \
    "FROM members m JOIN insured i ON i.id = m.insured_id "

static const char *str_of(portail_arena_t *a, const json_t *row, const char *key)
{
    const char *s = portail_row_str(row, key);
    return s ? portail_strdup(a, s) : NULL;
}

static int member_from_row(portail_db_t *db, portail_arena_t *a, const json_t *row,
                           member_rec_t *out)
{
    memset(out, 0, sizeof *out);
    if (!row)
        return portail_db_failed(db) ? -1 : 0;
    out->id = portail_row_int(row, "id", 0);
    out->insured_id = portail_row_int(row, "insured_id", 0);
    out->nir = str_of(a, row, "nir");
    out->first_name = str_of(a, row, "first_name");
    out->last_name = str_of(a, row, "last_name");
    out->birth_date = str_of(a, row, "birth_date");
    out->email = str_of(a, row, "email");
    out->fund = str_of(a, row, "fund");
    out->password_hash = str_of(a, row, "password_hash");
    out->totp_secret = portail_row_blob(a, row, "totp_secret", &out->totp_secret_len);
    out->totp_last_step = portail_row_int(row, "totp_last_step", -1);
    out->totp_pending = portail_row_blob(a, row, "totp_pending", &out->totp_pending_len);
    out->reenrol_required = portail_row_int(row, "reenrol_required", 0) == 1;
    return 1;
}

int store_member_by_nir(portail_db_t *db, portail_arena_t *a, const char *nir, int pending_s,
                        member_rec_t *out)
{
    return member_from_row(
        db, a, portail_db_row(db, MEMBER_COLUMNS "WHERE i.nir = ?", "is", pending_s, nir), out);
}

int store_member_by_id(portail_db_t *db, portail_arena_t *a, int64_t id, int pending_s,
                       member_rec_t *out)
{
    return member_from_row(
        db, a, portail_db_row(db, MEMBER_COLUMNS "WHERE m.id = ?", "il", pending_s, (long long)id),
        out);
}

int store_member_totp_step(portail_db_t *db, int64_t member_id, long long step)
{
    long long n = portail_db_exec(db,
                                  "UPDATE members SET totp_last_step = ? WHERE id = ? "
                                  "AND totp_secret IS NOT NULL "
                                  "AND (totp_last_step IS NULL OR totp_last_step < ?)",
                                  "lll", step, (long long)member_id, step);
    return n < 0 ? -1 : n == 1;
}

int store_country_seen(portail_db_t *db, int64_t member_id, const char *country, int days, int *any)
{
    json_t *row = portail_db_row(db,
                                 "SELECT COUNT(*) AS recent, COALESCE(SUM(country = ?), 0) AS here "
                                 "FROM member_countries WHERE member_id = ? "
                                 "AND last_seen_at > UTC_TIMESTAMP() - INTERVAL ? DAY",
                                 "sli", country, (long long)member_id, days);
    if (!row)
        return -1;
    *any = portail_row_int(row, "recent", 0) > 0;
    /* SUM of a comparison is DECIMAL: it comes back as a real. */
    const json_t *here = json_object_get(row, "here");
    return json_is_number(here) && json_number_value(here) > 0;
}

int store_country_record(portail_db_t *db, int64_t member_id, const char *country)
{
    return portail_db_exec(db,
                           "INSERT INTO member_countries (member_id, country) VALUES (?, ?) "
                           "ON DUPLICATE KEY UPDATE last_seen_at = UTC_TIMESTAMP()",
                           "ls", (long long)member_id, country) < 0
               ? -1
               : 0;
}

/* ---- agents ------------------------------------------------------------------ */

#define AGENT_COLUMNS                                                                              \
    "SELECT id, login, display_name, role, email, password_hash, totp_secret, totp_last_step, "    \
    "IF(totp_pending_at > UTC_TIMESTAMP() - INTERVAL ? SECOND, totp_pending, NULL) "               \
    "AS totp_pending, pending_password_hash "                                                      \
    "FROM agents "

static int agent_from_row(portail_db_t *db, portail_arena_t *a, const json_t *row, agent_rec_t *out)
{
    memset(out, 0, sizeof *out);
    if (!row)
        return portail_db_failed(db) ? -1 : 0;
    out->id = portail_row_int(row, "id", 0);
    out->login = str_of(a, row, "login");
    out->display_name = str_of(a, row, "display_name");
    out->role = str_of(a, row, "role");
    out->email = str_of(a, row, "email");
    out->password_hash = str_of(a, row, "password_hash");
    out->totp_secret = portail_row_blob(a, row, "totp_secret", &out->totp_secret_len);
    out->totp_last_step = portail_row_int(row, "totp_last_step", -1);
    out->totp_pending = portail_row_blob(a, row, "totp_pending", &out->totp_pending_len);
    out->pending_password_hash = str_of(a, row, "pending_password_hash");
    return 1;
}

int store_agent_by_login(portail_db_t *db, portail_arena_t *a, const char *login, int pending_s,
                         agent_rec_t *out)
{
    return agent_from_row(db, a,
                          portail_db_row(db,
                                         AGENT_COLUMNS "WHERE login = ? AND disabled_at IS NULL",
                                         "is", pending_s, login),
                          out);
}

int store_agent_by_id(portail_db_t *db, portail_arena_t *a, int64_t id, int pending_s,
                      agent_rec_t *out)
{
    return agent_from_row(db, a,
                          portail_db_row(db, AGENT_COLUMNS "WHERE id = ? AND disabled_at IS NULL",
                                         "il", pending_s, (long long)id),
                          out);
}

int store_agent_totp_step(portail_db_t *db, int64_t agent_id, long long step)
{
    long long n = portail_db_exec(db,
                                  "UPDATE agents SET totp_last_step = ? WHERE id = ? "
                                  "AND totp_secret IS NOT NULL "
                                  "AND (totp_last_step IS NULL OR totp_last_step < ?)",
                                  "lll", step, (long long)agent_id, step);
    return n < 0 ? -1 : n == 1;
}
