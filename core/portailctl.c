/* portailctl: operator commands that share the host's config and core. */
#include <curl/curl.h>
#include <errno.h>
#include <mysql.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "portailctl_accounts.h"
#include "portailctl_jobs.h"
#include "seed.h"

int portailctl_options(int argc, char **argv, const char *const *names, const char **vals)
{
    for (int i = 0; i < argc; i += 2) {
        size_t k = 0;
        while (names[k] && strcmp(argv[i], names[k]) != 0)
            k++;
        if (!names[k] || i + 1 >= argc)
            return -1;
        vals[k] = argv[i + 1];
    }
    return 0;
}

int portailctl_number(const char *s, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static const char *auth_name(portail_auth_t auth)
{
    switch (auth) {
    case PORTAIL_AUTH_AGENT:
        return "agent";
    case PORTAIL_AUTH_MEMBER:
        return "member";
    case PORTAIL_AUTH_PARTIAL:
        return "partial";
    case PORTAIL_AUTH_PUBLIC:
        return "public";
    }
    return "?";
}

/* One line per method, so that a scanner reads each line as one request
 * shape: METHOD PATTERN LEVEL MODULE BODY_TYPES PERMISSION (tab-separated,
 * "-" for none). */
static void print_route(const portail_route_t *route, const portail_loaded_module_t *m, void *arg)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    (void)arg;
    unsigned ct = route->content_types ? route->content_types : PORTAIL_CT_JSON;
    char types[32] = "";
    if (ct & PORTAIL_CT_JSON)
        strcat(types, "json");
    if (ct & PORTAIL_CT_FORM)
        strcat(types, types[0] ? ",form" : "form");
    if (ct & PORTAIL_CT_MULTIPART)
        strcat(types, types[0] ? ",multipart" : "multipart");
    for (unsigned i = 0; i < 5; i++)
        if (route->methods & (1u << i))
            printf("%s\t%s\t%s\t%s\t%s\t%s\n", methods[i], route->pattern, auth_name(route->auth),
                   m ? m->desc->name : "core", types, route->permission ? route->permission : "-");
}

static int usage(void)
{
    fprintf(stderr,
            "usage: portailctl --config FILE COMMAND\n"
            "commands:\n"
            "  check-config           validate the configuration and the modules\n"
            "  routes                 every route of the core and the enabled modules, one\n"
            "                         line per method: METHOD PATTERN LEVEL MODULE\n"
            "                         BODY_TYPES PERMISSION (tab-separated)\n"
            "  migrate [--sql DIR] [--wait SECONDS]\n"
            "                         apply the core's then each enabled module's SQL\n"
            "                         migrations not yet applied (DIR: the core's, instead\n"
            "                         of server.data_dir/sql; wait for another migrate\n"
            "                         at most SECONDS, 60 by default)\n"
            "  seed [--count N]       insert the demo insured persons; marks the database\n"
            "                         as a demo one\n"
            "  mail-flush             deliver due mail once, now\n"
            "  agent add LOGIN --name NAME --role agent|supervisor [--email EMAIL]\n"
            "                         create an agent; prints a one-time enrolment link\n"
            "  agent reset LOGIN      new enrolment link (password and TOTP chosen anew)\n"
            "  agent disable LOGIN    refuse the agent (open sessions end at once)\n"
            "  agent enable LOGIN     accept the agent again\n"
            "  agent role LOGIN agent|supervisor\n"
            "                         change the role (counts from the next request)\n"
            "  demo --yes-this-is-a-demo-database\n"
            "                         on a database marked by seed: the demo member and\n"
            "                         supervisor, with new random passwords and TOTP secrets\n"
            "                         and print their credentials\n"
            "  jobs list [--state S] [--kind K] [--limit N]\n"
            "  jobs retry ID          queue a failed job again\n"
            "  jobs cancel ID         a queued job will not run\n"
            "  letters list           the print queue (letters to post), oldest first\n"
            "  letters show ID        a letter's text\n"
            "  member delete NIR      delete a member account and its rows (the\n"
            "                         modules' MEMBER_DELETED hooks run too)\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[1], "--config") != 0)
        return usage();
    const char *file = argv[2];
    const char *cmd = argv[3];
    if (sodium_init() < 0 || mysql_library_init(0, NULL, NULL) != 0 ||
        curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "portailctl: library initialisation failed\n");
        return 1;
    }
    portail_conf_t conf;
    char err[1024];
    if (portail_conf_load(&conf, file, err, sizeof(err)) < 0) {
        fprintf(stderr, "portailctl: %s\n", err);
        return 1;
    }
    portail_host_t host = {.conf = &conf};
    int rc = 0;
    /* check-config refuses what portaild would; member delete runs the
     * modules' hooks; routes lists what portaild would serve: all load the
     * modules as portaild does. */
    int routes = strcmp(cmd, "routes") == 0;
    if (strcmp(cmd, "check-config") == 0 || strcmp(cmd, "member") == 0 || routes) {
        if (routes && argc != 4) {
            rc = usage();
        } else if (portail_host_load(&host, err, sizeof(err)) < 0) {
            fprintf(stderr, "portailctl: %s\n", err);
            rc = 1;
        } else if (strcmp(cmd, "check-config") == 0) {
            printf("ok\n");
        } else if (routes) {
            portail_router_each(host.router, print_route, NULL);
        }
        if (rc != 0 || strcmp(cmd, "check-config") == 0 || routes) {
            portail_host_unload(&host);
            portail_conf_free(&conf);
            return rc;
        }
    }

    portail_pool_t *pool = portail_pool_new(&conf.db);
    host.pool = pool;
    portail_the_host = &host;
    portail_arena_t *arena = portail_arena_new(0);
    int why = 0;
    portail_db_t *db = pool ? portail_pool_acquire(pool, arena, "portailctl", 5000, &why) : NULL;
    if (!db) {
        fprintf(stderr, "portailctl: cannot connect to the database\n");
        rc = 1;
    } else if (strcmp(cmd, "migrate") == 0) {
        static const char *const opts[] = {"--sql", "--wait", NULL};
        const char *v[2] = {NULL, "60"};
        long long wait_s = 0;
        if (portailctl_options(argc - 4, argv + 4, opts, v) < 0 ||
            portailctl_number(v[1], 0, 86400, &wait_s) < 0)
            rc = usage();
        const char *dir = v[0];
        if (rc == 0 && portail_migrate(db, &conf, dir, (int)wait_s, stdout, err, sizeof(err)) < 0) {
            fflush(stdout);
            fprintf(stderr, "portailctl: migrate: %s\n", err);
            rc = 1;
        }
    } else if (strcmp(cmd, "seed") == 0) {
        static const char *const opts[] = {"--count", NULL};
        const char *v[1] = {"200"};
        long long count = 0;
        if (portailctl_options(argc - 4, argv + 4, opts, v) < 0 ||
            portailctl_number(v[0], 1, 100000, &count) < 0) {
            rc = usage();
        } else {
            int added = portail_seed(db, arena, (unsigned)count, err, sizeof(err));
            if (added < 0) {
                fprintf(stderr, "portailctl: seed: %s\n", err);
                rc = 1;
            } else {
                printf("seed: %d new insured persons (of %lld)\n", added, count);
                if (portail_seed_modules(db, &conf, stdout, err, sizeof(err)) < 0) {
                    fprintf(stderr, "portailctl: seed: %s\n", err);
                    rc = 1;
                }
            }
        }
    } else if (strcmp(cmd, "mail-flush") == 0) {
        portail_pool_release(db);
        db = NULL;
        int n = portail_outbox_flush(&host);
        if (n < 0)
            rc = 1;
        else
            printf("%d mail(s) sent\n", n);
    } else if (strcmp(cmd, "agent") == 0) {
        rc = portailctl_agent(&host, db, arena, argc - 4, argv + 4);
        if (rc == PORTAILCTL_USAGE)
            rc = usage();
    } else if (strcmp(cmd, "demo") == 0 &&
               (argc != 5 || strcmp(argv[4], "--yes-this-is-a-demo-database") != 0)) {
        fprintf(stderr, "portailctl: demo makes accounts with known credentials: only on a demo "
                        "database (marked by seed), with --yes-this-is-a-demo-database\n");
        rc = usage();
    } else if (strcmp(cmd, "demo") == 0) {
        /* The demo repairs accounts, which mails their owners. */
        if (portail_templates_load(conf.mail_templates, conf.fund_name, conf.origin, err,
                                   sizeof(err)) < 0 ||
            portail_templates_brand(conf.brand.name, conf.brand.phone) < 0) {
            fprintf(stderr, "portailctl: %s\n", err);
            rc = 1;
        } else {
            rc = portailctl_demo(&host, db, arena);
        }
    } else if (strcmp(cmd, "jobs") == 0) {
        rc = portailctl_jobs(db, argc - 4, argv + 4);
        if (rc == PORTAILCTL_USAGE)
            rc = usage();
    } else if (strcmp(cmd, "letters") == 0) {
        rc = portailctl_letters(db, argc - 4, argv + 4);
        if (rc == PORTAILCTL_USAGE)
            rc = usage();
    } else if (strcmp(cmd, "member") == 0) {
        rc = portailctl_member(db, argc - 4, argv + 4);
        if (rc == PORTAILCTL_USAGE)
            rc = usage();
    } else {
        rc = usage();
    }
    if (db)
        portail_pool_release(db);
    portail_arena_free(arena);
    portail_the_host = NULL;
    portail_host_unload(&host);
    if (pool)
        portail_pool_free(pool);
    portail_conf_free(&conf);
    curl_global_cleanup();
    mysql_library_end();
    return rc;
}
