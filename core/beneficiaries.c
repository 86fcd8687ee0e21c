/* The beneficiaries (ayants droit) of a member: core data because the
 * coverage module declares them and other modules (reimbursements,
 * appointments) name them, and modules never call each other. */
#include <string.h>

#include "portail/beneficiaries.h"
#include "portail/http.h"
#include "portail/texts.h"

#define MAX_BENEFICIARIES 50

/* The member's own row and each beneficiary's share the shape, so that a
 * select lists them alike; the member's id is null. */
#define SELF_COLUMNS                                                                               \
    "NULL AS id, 'self' AS relation, i.first_name, i.last_name, "                                  \
    "CONCAT(i.first_name, ' ', i.last_name) AS name, i.birth_date, NULL AS rights_from, "          \
    "NULL AS rights_to, CONCAT('Moi (', i.first_name, ' ', i.last_name, ')') AS label "
#define BEN_COLUMNS                                                                                \
    "b.id, b.relation, b.first_name, b.last_name, CONCAT(b.first_name, ' ', b.last_name) AS "      \
    "name, "                                                                                       \
    "b.birth_date, b.rights_from, b.rights_to, CONCAT(b.first_name, ' ', b.last_name, ' (', "      \
    "IF(b.relation = 'child', 'enfant', 'conjoint'), ')') AS label "

static json_t *self_row(portail_db_t *db, int64_t member_id)
{
    return portail_db_row(db,
                          "SELECT " SELF_COLUMNS "FROM members m "
                          "JOIN insured i ON i.id = m.insured_id WHERE m.id = ?",
                          "l", (long long)member_id);
}

json_t *portail_beneficiaries_list(portail_ctx_t *ctx, int64_t member_id)
{
    portail_db_t *db = ctx ? portail_db(ctx) : NULL;
    if (!db || member_id <= 0)
        return NULL;
    json_t *self = self_row(db, member_id);
    if (!self)
        return NULL;
    json_t *rows = portail_db_rows(db,
                                   "SELECT " BEN_COLUMNS "FROM members m "
                                   "JOIN beneficiaries b ON b.insured_id = m.insured_id "
                                   "WHERE m.id = ? ORDER BY b.birth_date, b.id LIMIT ?",
                                   "li", (long long)member_id, MAX_BENEFICIARIES);
    if (!rows)
        return NULL;
    /* The rows belong to the arena: the array keeps its own reference. */
    if (json_array_insert(rows, 0, self) != 0)
        return NULL;
    return rows;
}

json_t *portail_beneficiary_get(portail_ctx_t *ctx, int64_t member_id, int64_t id)
{
    portail_db_t *db = ctx ? portail_db(ctx) : NULL;
    if (!db || member_id <= 0 || id <= 0)
        return NULL;
    return portail_db_row(db,
                          "SELECT " BEN_COLUMNS "FROM members m "
                          "JOIN beneficiaries b ON b.insured_id = m.insured_id "
                          "WHERE m.id = ? AND b.id = ?",
                          "ll", (long long)member_id, (long long)id);
}

const char *portail_beneficiary_name(portail_ctx_t *ctx, int64_t member_id, int64_t id)
{
    portail_db_t *db = ctx ? portail_db(ctx) : NULL;
    if (!db || member_id <= 0 || id < 0)
        return NULL;
    json_t *r = id == 0 ? self_row(db, member_id) : portail_beneficiary_get(ctx, member_id, id);
    return r ? portail_row_str(r, "name") : NULL;
}

int portail_beneficiary_check(portail_ctx_t *ctx, int64_t id)
{
    if (id <= 0 || portail_beneficiary_get(ctx, portail_principal(ctx)->id, id))
        return 0;
    if (portail_responded(ctx))
        return -1;
    if (portail_db_failed(portail_db(ctx)))
        portail_problem(ctx, 500, NULL, NULL);
    else
        portail_problem(ctx, 404, NULL, TXT_BENEFICIARIES_PAS_AYANT_DROIT);
    return -1;
}

static int bounded(const char *s, size_t max)
{
    return s && *s && strnlen(s, max + 1) <= max;
}

int64_t portail_beneficiary_set(portail_db_t *db, const portail_beneficiary_t *b)
{
    if (!db || !b || b->declaration_id <= 0 || b->insured_id <= 0 || !b->relation ||
        (strcmp(b->relation, "child") != 0 && strcmp(b->relation, "spouse") != 0) ||
        !bounded(b->first_name, 100) || !bounded(b->last_name, 100) || !bounded(b->birth_date, 10))
        return -1;
    /* The insured person never changes: a declaration of another person's
     * row updates nothing and is refused. */
    long long n = portail_db_exec(
        db,
        "INSERT INTO beneficiaries (declaration_id, insured_id, relation, last_name, first_name, "
        "birth_date, "
        "rights_from, rights_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE "
        "relation = IF(insured_id = VALUES(insured_id), VALUES(relation), relation), "
        "last_name = IF(insured_id = VALUES(insured_id), VALUES(last_name), last_name), "
        "first_name = IF(insured_id = VALUES(insured_id), VALUES(first_name), first_name), "
        "birth_date = IF(insured_id = VALUES(insured_id), VALUES(birth_date), birth_date), "
        "rights_from = IF(insured_id = VALUES(insured_id), VALUES(rights_from), rights_from), "
        "rights_to = IF(insured_id = VALUES(insured_id), VALUES(rights_to), rights_to)",
        "llssssss", (long long)b->declaration_id, (long long)b->insured_id, b->relation,
        b->last_name, b->first_name, b->birth_date, b->rights_from, b->rights_to);
    if (n < 0)
        return -1;
    json_t *r =
        portail_db_row(db, "SELECT id, insured_id FROM beneficiaries WHERE declaration_id = ?", "l",
                       (long long)b->declaration_id);
    return r && portail_row_int(r, "insured_id", 0) == (long long)b->insured_id
               ? (int64_t)portail_row_int(r, "id", -1)
               : -1;
}
