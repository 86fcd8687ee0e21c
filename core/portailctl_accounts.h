/* portailctl's account commands (core/portailctl_accounts.c). */
#ifndef PORTAILCTL_ACCOUNTS_H
#define PORTAILCTL_ACCOUNTS_H

#include "internal.h"

/* Returned for bad arguments: the caller prints the usage. */
#define PORTAILCTL_USAGE 2

/* The "--name value" options of argv (core/portailctl.c): vals[k] gets the
 * value of names[k] (NULL-terminated list; the last one given wins; vals
 * untouched for an absent one). 0, or -1 on an unknown name or a missing
 * value. */
int portailctl_options(int argc, char **argv, const char *const *names, const char **vals);
/* s, a whole decimal number in [min, max], into *out. 0 or -1. */
int portailctl_number(const char *s, long long min, long long max, long long *out);

/* agent add LOGIN --name NAME --role agent|supervisor [--email EMAIL]
 * agent reset LOGIN
 * argv starts after "agent". 0, 1 on failure (message on stderr), or
 * PORTAILCTL_USAGE. */
int portailctl_agent(portail_host_t *h, portail_db_t *db, portail_arena_t *a, int argc,
                     char **argv);
/* Creates or repairs the demo member and the demo supervisor (password,
 * TOTP, no lock) and prints their credentials. 0 or 1. */
int portailctl_demo(portail_host_t *h, portail_db_t *db, portail_arena_t *a);

#endif
