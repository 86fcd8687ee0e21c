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

/* ---- Mail templates (core/template.c) -----------------------------------
 * One file per mail in the folder of `mail.templates` (subject line, empty
 * line, body; signature.txt appended). vars: name, value, name, value, ...,
 * NULL; fund_name, phone and origin are given by the core. An unknown
 * template or a variable without value is an error (logged). Renders and
 * enqueues in the caller's transaction: 0 or -1. */
int portail_mail_template(portail_db_t *db, portail_arena_t *a, const char *to,
                          const char *template, const char *const *vars);
/* Renders without sending: subject and body in the arena, or -1 with an
 * English reason for the log in *error. */
int portail_mail_render(portail_arena_t *a, const char *template, const char *const *vars,
                        const char **subject, const char **body, const char **error);

#endif
