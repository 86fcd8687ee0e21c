/* Demo data for development and tests: deterministic insured persons. */
#ifndef PORTAIL_SEED_H
#define PORTAIL_SEED_H

#include <stddef.h>

#include "portail/arena.h"
#include "portail/db.h"

/* Inserts count (at most PORTAIL_SEED_MAX) insured persons, always the same
 * ones in the same order, the first being the demo member Marie Dupont (NIR
 * 2 85 03 33 063 001 82, born 1985-03-14). Rows whose NIR already exists are
 * left alone, so seeding twice is harmless. Runs in one transaction, which
 * also marks the database as a demo one (core_settings 'demo_database').
 * Returns the number of rows actually inserted, or -1 with err filled. */
#define PORTAIL_SEED_MAX 10000u
/* Marie Dupont's IBAN on file and postcode: registration asks for the
 * postcode and the IBAN's last 7 characters ("3026052"). About one person
 * in ten after her has no IBAN (registration by a code sent by post). */
#define PORTAIL_SEED_DEMO_IBAN "FR7620041010050500013026052"
#define PORTAIL_SEED_DEMO_POSTCODE "33000"
/* Also seeds this many practitioners (table practitioners), the same each time. */
#define PORTAIL_SEED_PRACTITIONERS 300u
int portail_seed(portail_db_t *db, portail_arena_t *a, unsigned count, char *err, size_t errlen);

#endif
