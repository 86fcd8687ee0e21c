/* portailctl's job and member commands (core/portailctl_jobs.c). */
#ifndef PORTAILCTL_JOBS_H
#define PORTAILCTL_JOBS_H

#include "internal.h"

/* jobs list [--state S] [--kind K] [--limit N] | jobs retry ID | jobs cancel ID
 * argv starts after "jobs". 0, 1 on failure, or PORTAILCTL_USAGE. */
int portailctl_jobs(portail_db_t *db, int argc, char **argv);
/* member delete NIR: the account and its rows, MEMBER_DELETED hooks of the
 * loaded modules included, in one transaction. 0, 1, or PORTAILCTL_USAGE. */
int portailctl_member(portail_db_t *db, int argc, char **argv);
/* letters list | letters show ID: the print queue. 0, 1, or PORTAILCTL_USAGE. */
int portailctl_letters(portail_db_t *db, int argc, char **argv);

#endif
