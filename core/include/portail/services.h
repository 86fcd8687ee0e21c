/* Core services that several modules share, so modules never depend on each
 * other: sessions, the mail outbox, account security (locks, counters,
 * security events), the audit log of agent actions, passwords, throttles,
 * one-time tokens and TOTP. */
#ifndef PORTAIL_SERVICES_H
#define PORTAIL_SERVICES_H

#include "portail/session.h"
#include "portail/mail.h"
#include "portail/account.h"
#include "portail/audit.h"
#include "portail/password.h"
#include "portail/throttle.h"
#include "portail/token.h"
#include "portail/totp.h"

#endif
