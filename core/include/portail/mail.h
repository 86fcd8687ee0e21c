#ifndef PORTAIL_MAIL_H
#define PORTAIL_MAIL_H

#include <jansson.h>
#include <stdint.h>

#include "portail/db.h"
#include "portail/http.h"

/* ---- Mail outbox (core/outbox.c) ----------------------------------------
 * Enqueued in the caller's transaction, delivered by the sender thread with
 * retries, so a rolled-back change sends nothing and a crash loses nothing.
 * Returns 0 or -1. */
int portail_mail_enqueue(portail_db_t *db, const char *to, const char *subject,
                         const char *body_text);

#endif
