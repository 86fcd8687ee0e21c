/* portailctl: operator commands that share the host's config and core. */
#include <curl/curl.h>
#include <dirent.h>
#include <mysql.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "portailctl_accounts.h"
#include "seed.h"

static int usage(void)
{
    fprintf(stderr, "usage: portailctl --config FILE COMMAND\n"
                    "commands:\n"
                    "  check-config           validate the configuration and the modules\n"
                    "  migrate [--sql DIR]    apply the SQL migrations not yet applied\n"
                    "  seed [--count N]       insert the demo insured persons\n"
                    "  mail-flush             deliver due mail once, now\n"
                    "  agent add LOGIN --name NAME --role agent|supervisor [--email EMAIL]\n"
                    "                         create an agent; prints a one-time enrolment link\n"
                    "  agent reset LOGIN      new enrolment link (password and TOTP chosen anew)\n"
                    "  agent disable LOGIN    refuse the agent (open sessions end at once)\n"
                    "  agent enable LOGIN     accept the agent again\n"
                    "  agent role LOGIN agent|supervisor\n"
                    "                         change the role (counts from the next request)\n"
                    "  demo                   create or repair the demo member and supervisor\n"
                    "                         and print their credentials\n");
    return 2;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    if (n < 0 || n > 16 * 1024 * 1024) {
        fclose(f);
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int migrate(portail_db_t *db, const char *dir)
{
    char err[1024];
    if (portail_db_run_script(db,
                              "CREATE TABLE IF NOT EXISTS schema_migrations ("
                              " version VARCHAR(255) NOT NULL PRIMARY KEY,"
                              " applied_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()))"
                              " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
                              err, sizeof(err)) < 0) {
        fprintf(stderr, "portailctl: %s\n", err);
        return 1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "portailctl: cannot open %s\n", dir);
        return 1;
    }
    char *names[512] = {0};
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 512) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names);
    int rc = 0, applied = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *row = portail_db_row(db, "SELECT version FROM schema_migrations WHERE version = ?",
                                     "s", names[i]);
        if (portail_db_failed(db)) {
            rc = 1;
            break;
        }
        if (row)
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        char *sql = read_file(path);
        if (!sql) {
            fprintf(stderr, "portailctl: cannot read %s\n", path);
            rc = 1;
            break;
        }
        /* DDL commits implicitly in MariaDB: a failed migration is reported
         * with its name and must be fixed by hand before the next run. */
        if (portail_db_run_script(db, sql, err, sizeof(err)) < 0) {
            fprintf(stderr, "portailctl: %s: %s\n", names[i], err);
            rc = 1;
        } else if (portail_db_exec(db, "INSERT INTO schema_migrations (version) VALUES (?)", "s",
                                   names[i]) != 1) {
            rc = 1;
        } else {
            printf("applied %s\n", names[i]);
            applied++;
        }
        free(sql);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    if (rc == 0)
        printf("migrations up to date (%d applied now)\n", applied);
    return rc;
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
    portail_router_t *router = portail_router_new();
    portail_loaded_module_t *mods = NULL;
    size_t nmods = 0;
    int rc = 0;
    if (strcmp(cmd, "check-config") == 0) {
        if (portail_templates_load(conf.mail_templates, conf.fund_name, conf.origin, err,
                                   sizeof(err)) < 0 ||
            portail_host_add_core_routes(router, err, sizeof(err)) < 0 ||
            portail_modules_load(&conf, router, &mods, &nmods, err, sizeof(err)) < 0) {
            fprintf(stderr, "portailctl: %s\n", err);
            rc = 1;
        } else {
            printf("ok\n");
        }
        portail_modules_unload(mods, nmods);
        portail_router_free(router);
        portail_templates_free();
        portail_conf_free(&conf);
        return rc;
    }
    portail_router_free(router);

    portail_pool_t *pool = portail_pool_new(&conf.db);
    portail_host_t host = {.conf = &conf, .pool = pool};
    portail_arena_t *arena = portail_arena_new(0);
    int why = 0;
    portail_db_t *db = pool ? portail_pool_acquire(pool, arena, "portailctl", 5000, &why) : NULL;
    if (!db) {
        fprintf(stderr, "portailctl: cannot connect to the database\n");
        rc = 1;
    } else if (strcmp(cmd, "migrate") == 0) {
        const char *dir = PORTAIL_SQLDIR;
        if (argc == 6 && strcmp(argv[4], "--sql") == 0)
            dir = argv[5];
        else if (argc != 4)
            rc = usage();
        if (rc == 0)
            rc = migrate(db, dir);
    } else if (strcmp(cmd, "seed") == 0) {
        long count = 200;
        if (argc == 6 && strcmp(argv[4], "--count") == 0)
            count = strtol(argv[5], NULL, 10);
        if (count < 1 || count > 100000) {
            rc = usage();
        } else {
            int added = portail_seed(db, arena, (unsigned)count, err, sizeof(err));
            if (added < 0) {
                fprintf(stderr, "portailctl: seed: %s\n", err);
                rc = 1;
            } else {
                printf("seed: %d new insured persons (of %ld)\n", added, count);
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
    } else if (strcmp(cmd, "demo") == 0 && argc == 4) {
        /* The demo repairs accounts, which mails their owners. */
        if (portail_templates_load(conf.mail_templates, conf.fund_name, conf.origin, err,
                                   sizeof(err)) < 0) {
            fprintf(stderr, "portailctl: %s\n", err);
            rc = 1;
        } else {
            rc = portailctl_demo(&host, db, arena);
        }
    } else {
        rc = usage();
    }
    if (db)
        portail_pool_release(db);
    portail_arena_free(arena);
    if (pool)
        portail_pool_free(pool);
    portail_templates_free();
    portail_conf_free(&conf);
    curl_global_cleanup();
    mysql_library_end();
    return rc;
}
