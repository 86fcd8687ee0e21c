#ifndef PORTAIL_THROTTLE_H
#define PORTAIL_THROTTLE_H

#include <jansson.h>
#include <stdint.h>

#include "portail/db.h"
#include "portail/http.h"

/* ---- Throttle (core/throttle.c) ------------------------------------------
 * Fixed-window counters in MariaDB (shared by every portaild), keyed by a
 * caller-chosen string such as "login-ip:203.0.113.7". */

/* Seconds to wait when key has reached max events in its current window of
 * window_s seconds, 0 otherwise; -1 on database error. Counts nothing. */
int portail_throttle_check(portail_db_t *db, const char *key, int window_s, int max);
/* Counts one event; returns what portail_throttle_check would return after it. */
int portail_throttle_hit(portail_db_t *db, const char *key, int window_s, int max);
int portail_throttle_clear(portail_db_t *db, const char *key);

#endif
