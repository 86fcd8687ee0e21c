/* Field validators shared by every module, with one set of bounds: a date,
 * a birth date, an e-mail address, a NIR, a French phone number, a postcode
 * and an IBAN. Each returns the normalised value (in the arena), or NULL
 * with a French sentence for the member in *msg (static storage). */
#ifndef PORTAIL_VALIDATE_H
#define PORTAIL_VALIDATE_H

#include <jansson.h>

#include "portail/arena.h"

typedef const char *(*portail_validator_t)(portail_arena_t *a, const char *in, const char **msg);

/* "YYYY-MM-DD" of a day that exists (leap years counted), years 1900 to
 * 9999; returned as is. */
const char *portail_valid_date(portail_arena_t *a, const char *in, const char **msg);
/* A date as above, not in the future (UTC) and not before 1900-01-01. */
const char *portail_valid_birth_date(portail_arena_t *a, const char *in, const char **msg);
/* One plain address: at most 254 bytes, local part at most 64, one '@', a
 * dotted domain, no space, control or special character (<>()[],;:\");
 * the domain comes back in lower case, the local part untouched. */
const char *portail_valid_email(portail_arena_t *a, const char *in, const char **msg);
/* A NIR (portail/nir.h): spaces removed, upper case, shape and key
 * checked; 15 characters. */
const char *portail_valid_nir(portail_arena_t *a, const char *in, const char **msg);
/* A French number: 0[1-9] and 8 digits, or +33 / 0033 and 9 digits,
 * spaces, dots and hyphens allowed; comes back as 10 digits "0612345678". */
const char *portail_valid_phone(portail_arena_t *a, const char *in, const char **msg);
/* Five digits of a department that exists: 01 to 95 (Corsica 20xxx),
 * overseas 97xxx and 98xxx. */
const char *portail_valid_postcode(portail_arena_t *a, const char *in, const char **msg);
/* ISO 13616: two letters, two check digits, up to 30 letters or digits,
 * spaces allowed, any case; mod 97 checked, 27 characters for FR; comes
 * back compact and in upper case. */
const char *portail_valid_iban(portail_arena_t *a, const char *in, const char **msg);

/* A string member of a JSON body checked by `check`: the normalised value,
 * or NULL with one {field, message} added to *errors (missing, not a
 * string, longer than 256 bytes, or refused by the validator). A missing
 * member with required 0 is NULL without error. */
const char *portail_json_valid(portail_arena_t *a, json_t *obj, const char *key, int required,
                               portail_validator_t check, json_t **errors);

#endif
