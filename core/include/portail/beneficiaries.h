/* The beneficiaries (ayants droit) of a member's insured person (core/
 * beneficiaries.c, table beneficiaries): the coverage module keeps the
 * declarations and writes these rows (portail_beneficiary_set); the modules
 * that name the person cared for (reimbursements, appointments) reference
 * a beneficiary by id, NULL meaning the member themself. Rows are JSON
 * objects {id, relation, first_name, last_name, name, birth_date,
 * rights_from, rights_to, label}; the member's own row has id null and
 * relation "self" (label "Moi (Prénom Nom)"). */
#ifndef PORTAIL_BENEFICIARIES_H
#define PORTAIL_BENEFICIARIES_H

#include <stdint.h>

#include <jansson.h>

#include "portail/db.h"

/* The choices of member_id (members.id): the member first ("moi"), then
 * their beneficiaries by birth date, at most 50. Owned like
 * portail_db_rows's answer; NULL when the member is unknown or on a
 * database error (portail_db_failed(portail_db(ctx)) tells which; the
 * 503 of an exhausted pool is then already set on ctx). */
json_t *portail_beneficiaries_list(portail_ctx_t *ctx, int64_t member_id);
/* One beneficiary of member_id by id (> 0), or NULL when it is not one of
 * theirs (another member's is not found either) or on a database error
 * (portail_db_failed tells which). */
json_t *portail_beneficiary_get(portail_ctx_t *ctx, int64_t member_id, int64_t id);
/* For a member's request naming the person cared for: 0 when id is 0 (the
 * member) or one of the signed-in member's beneficiaries; else -1 with the
 * answer set: 404 for anyone else's (or no one's), 500/503 on a database
 * error. One rule and one wording for every module. */
int portail_beneficiary_check(portail_ctx_t *ctx, int64_t id);
/* The name of member_id's person id (0: the member themself) as printed
 * ("Léa Dupont"), in the arena, or NULL as portail_beneficiary_get. */
const char *portail_beneficiary_name(portail_ctx_t *ctx, int64_t member_id, int64_t id);

/* A declaration as the coverage module writes it. */
typedef struct portail_beneficiary {
    int64_t declaration_id;  /* > 0: the declaring module's own id of it */
    int64_t insured_id;      /* the insured person it depends on */
    const char *relation;    /* "child" or "spouse" */
    const char *first_name;  /* 1..100 bytes */
    const char *last_name;   /* 1..100 bytes */
    const char *birth_date;  /* YYYY-MM-DD */
    const char *rights_from; /* YYYY-MM-DD or NULL */
    const char *rights_to;   /* YYYY-MM-DD or NULL */
} portail_beneficiary_t;
/* Inserts or updates (same declaration_id) the row, in the caller's
 * transaction. Returns the beneficiary's id (the core's, which other
 * modules store), or -1: bad input, a database error, or a declaration_id
 * already used for another insured person. */
int64_t portail_beneficiary_set(portail_db_t *db, const portail_beneficiary_t *b);

#endif
