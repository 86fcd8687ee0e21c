/* Notifications of members (core/notify.c). A module declares its kinds in
 * init (their French label shows in the member's preferences), then notifies
 * in one call inside its own transaction. The member also gets a short mail
 * through the outbox with no detail at all (template mail/notification.txt:
 * "Vous avez une nouvelle notification sur votre compte" and the link),
 * unless the member switched that kind's mail off. */
#ifndef PORTAIL_NOTIFY_H
#define PORTAIL_NOTIFY_H

#include <stdint.h>

#include "portail/db.h"

/* From a module's init (before any thread serves): kind "<module>.<what>",
 * [a-z0-9_.]{3,64} with a dot; label in French, at most 120 bytes. 0, or -1
 * on a malformed or duplicate kind, or more than 256 kinds. */
int portail_notify_kind(const char *kind, const char *label);

/* In the caller's transaction: a declared kind, title (at most 200 bytes)
 * and text (2000) in French, link a relative path ("/remboursements/") or
 * NULL. 0, or -1 (logged): the caller rolls back. */
int portail_notify(portail_db_t *db, int64_t member_id, const char *kind, const char *title,
                   const char *text, const char *link);
/* The same, with the module's own mail instead of the core's detail-free
 * one (a reminder that must give the date and the place): template and
 * vars as portail_mail_template (mail.h). One mail, not two, and none when
 * the member switched the kind's mail off. */
int portail_notify_mail(portail_db_t *db, int64_t member_id, const char *kind, const char *title,
                        const char *text, const char *link, const char *template,
                        const char *const *vars);

#endif
