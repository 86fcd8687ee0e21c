/* portailctl jobs ... and member delete: what an operator does without the
 * back office. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portail/nir.h"
#include "portailctl_accounts.h"
#include "portailctl_jobs.h"

static int parse_id(const char *s, long long *out)
{
    return portailctl_number(s, 1, LLONG_MAX, out);
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

static int jobs_list(portail_db_t *db, int argc, char **argv)
{
    static const char *const opts[] = {"--state", "--kind", "--limit", NULL};
    const char *v[3] = {NULL, NULL, "50"};
    long long limit;
    if (portailctl_options(argc, argv, opts, v) < 0 ||
        portailctl_number(v[2], 1, 10000, &limit) < 0)
        return PORTAILCTL_USAGE;
    const char *state = v[0], *kind = v[1];
    if ((state && strlen(state) > 20) || (kind && strlen(kind) > 100))
        return PORTAILCTL_USAGE;
    json_t *rows = portail_db_rows(db,
                                   "SELECT id, kind, state, attempts, max_attempts, run_at, "
                                   "last_error FROM jobs WHERE (? IS NULL OR state = ?) "
                                   "AND (? IS NULL OR kind = ?) ORDER BY id DESC LIMIT ?",
                                   "ssssl", state, state, kind, kind, limit);
    if (!rows)
        return 1;
    printf("%-10s %-24s %-10s %-8s %-20s %s\n", "ID", "KIND", "STATE", "ATTEMPTS", "RUN_AT",
           "LAST_ERROR");
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        char att[32];
        snprintf(att, sizeof att, "%lld/%lld", portail_row_int(row, "attempts", 0),
                 portail_row_int(row, "max_attempts", 0));
        printf("%-10lld %-24s %-10s %-8s %-20s %s\n", portail_row_int(row, "id", 0),
               or_dash(portail_row_str(row, "kind")), or_dash(portail_row_str(row, "state")), att,
               or_dash(portail_row_str(row, "run_at")),
               or_dash(portail_row_str(row, "last_error")));
    }
    return 0;
}

int portailctl_jobs(portail_db_t *db, int argc, char **argv)
{
    if (argc < 1)
        return PORTAILCTL_USAGE;
    if (strcmp(argv[0], "list") == 0)
        return jobs_list(db, argc - 1, argv + 1);
    long long id;
    if (argc != 2 || parse_id(argv[1], &id) < 0)
        return PORTAILCTL_USAGE;
    int retry = strcmp(argv[0], "retry") == 0;
    if (!retry && strcmp(argv[0], "cancel") != 0)
        return PORTAILCTL_USAGE;
    int rc = retry ? portail_job_retry(db, id) : portail_job_cancel(db, id);
    if (rc < 0)
        return 1;
    if (rc == 0) {
        fprintf(stderr, "portailctl: job %lld is not %s\n", id, retry ? "failed" : "queued");
        return 1;
    }
    printf("job %lld %s\n", id, retry ? "queued again" : "cancelled");
    return 0;
}

int portailctl_member(portail_db_t *db, int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[0], "delete") != 0)
        return PORTAILCTL_USAGE;
    char nir[16];
    if (portail_nir_normalize(argv[1], nir) < 0) {
        fprintf(stderr, "portailctl: malformed NIR\n");
        return 1;
    }
    json_t *row = portail_db_row(db,
                                 "SELECT m.id FROM members m JOIN insured i ON i.id = "
                                 "m.insured_id WHERE i.nir = ?",
                                 "s", nir);
    if (!row) {
        if (!portail_db_failed(db))
            fprintf(stderr, "portailctl: no member account for this NIR\n");
        return 1;
    }
    long long id = portail_row_int(row, "id", 0);
    int rc = portail_member_delete(db, id);
    if (rc != 1) {
        fprintf(stderr, "portailctl: member %lld not deleted%s\n", id,
                rc < 0 ? " (error or a module refused; see the log)" : "");
        return 1;
    }
    printf("member %lld deleted\n", id);
    return 0;
}

/* The print queue (table letters): one line a letter, newest last, then a
 * letter's text as it is printed. */
int portailctl_letters(portail_db_t *db, int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        json_t *rows = portail_db_rows(db,
                                       "SELECT l.id, l.kind, l.created_at, i.nir, i.last_name, "
                                       "l.pdf IS NOT NULL AS has_pdf, l.printed_at "
                                       "FROM letters l JOIN insured i ON i.id = l.insured_id "
                                       "ORDER BY l.id DESC LIMIT 200",
                                       "");
        if (!rows)
            return 1;
        for (size_t k = json_array_size(rows); k > 0; k--) {
            json_t *r = json_array_get(rows, k - 1);
            const char *printed = portail_row_str(r, "printed_at");
            printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\n", portail_row_int(r, "id", 0),
                   portail_row_str(r, "created_at"), portail_row_str(r, "kind"),
                   portail_row_str(r, "nir"), portail_row_str(r, "last_name"),
                   portail_row_int(r, "has_pdf", 0) == 1 ? "pdf" : "texte",
                   printed ? printed : "à imprimer");
        }
        return 0;
    }
    long long id;
    if (argc != 2 || strcmp(argv[0], "show") != 0 || parse_id(argv[1], &id) < 0)
        return PORTAILCTL_USAGE;
    json_t *r = portail_db_row(db, "SELECT body, data FROM letters WHERE id = ?", "l", id);
    if (!r) {
        if (!portail_db_failed(db))
            fprintf(stderr, "portailctl: no letter %lld\n", id);
        return 1;
    }
    printf("%s", portail_row_str(r, "body"));
    return 0;
}
