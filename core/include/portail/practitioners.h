/* The directory of practitioners (core/practitioners.c, table
 * practitioners): read by the modules that need a doctor (coverage's
 * médecin traitant, appointments). Rows are JSON objects {id, rpps,
 * last_name, first_name, specialty, address_line, postal_code, city,
 * accepts_new_patients}. */
#ifndef PORTAIL_PRACTITIONERS_H
#define PORTAIL_PRACTITIONERS_H

#include <stdint.h>

#include <jansson.h>

#include "portail/db.h"

/* 1 when s is 11 digits whose last one is the Luhn check digit of the
 * first ten, else 0. */
int portail_rpps_valid(const char *s);
/* The practitioner (owned like portail_db_row's answer), or NULL when
 * unknown or on a database error (portail_db_failed tells which). */
json_t *portail_practitioner_get(portail_db_t *db, int64_t id);
/* At most limit (1..100) practitioners with id > after, in id order,
 * filtered by city or postcode (place, may be NULL or ""), by a name prefix
 * (name, may be NULL or "") and, when gp_only, to general practitioners who
 * accept new patients. Owned like portail_db_rows's answer; NULL on a
 * database error. */
json_t *portail_practitioners_search(portail_db_t *db, const char *place, const char *name,
                                     int gp_only, int64_t after, int limit);
/* The insured person's médecin traitant (table member_doctors, kept by the
 * coverage module): the practitioner's row plus `since` (DATE), owned like
 * portail_db_row's answer, or NULL when none or on a database error
 * (portail_db_failed tells which). */
json_t *portail_member_doctor(portail_db_t *db, int64_t insured_id);
/* Sets (practitioner_id > 0) or clears (0) the insured person's médecin
 * traitant, in the caller's transaction. 0 or -1. */
int portail_member_doctor_set(portail_db_t *db, int64_t insured_id, int64_t practitioner_id);

#endif
