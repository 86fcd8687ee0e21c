/* Schema migrations, per owner: the core's (server.data_dir/sql, or
 * `migrate --sql DIR`) then each enabled module's (its folder's sql/), in
 * config order. Every applied file is recorded as (module, file, SHA-256) so
 * that a file edited after it ran is refused instead of leaving databases
 * that differ from what the files say. portaild uses the same scan to refuse
 * to serve a database that is behind its files. */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MIG_MAX_FILES 1024
#define MIG_MAX_OWNERS 65 /* the core and at most 64 modules (config.c) */
#define MIG_MAX_FILE_BYTES (16 * 1024 * 1024)
#define MIG_SUM_HEX (crypto_hash_sha256_BYTES * 2 + 1)

typedef struct mig_file {
    const char *owner; /* "core" or the module's name (config-owned) */
    char *name;
    char *sql;
    char sum[MIG_SUM_HEX];
    int applied; /* recorded with this checksum (apply's first pass) */
} mig_file_t;

typedef struct mig_set {
    mig_file_t files[MIG_MAX_FILES];
    size_t n;
    const char *owners[MIG_MAX_OWNERS];
    size_t nowners;
} mig_set_t;

static void set_free(mig_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->files[i].name);
        free(s->files[i].sql);
    }
    free(s);
}

static char *slurp(const char *path, size_t *len)
{
    int too_big = 0;
    return portail_file_read(path, MIG_MAX_FILE_BYTES, len, &too_big);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds DIR's *.sql files, in name order, for OWNER. A module without a sql/
 * directory simply has no migrations; the core must have one. */
static int scan_dir(mig_set_t *s, const char *owner, const char *dir, int required, char *err,
                    size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT && !required)
            return 0;
        snprintf(err, errlen, "%s: cannot open %s: %s", owner, dir, strerror(errno));
        return -1;
    }
    char *names[MIG_MAX_FILES] = {0};
    size_t n = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 4 || strcmp(e->d_name + len - 4, ".sql") != 0 || e->d_name[0] == '.')
            continue;
        if (len > 255 || n + s->n >= MIG_MAX_FILES) {
            snprintf(err, errlen, "%s: %s: too many migrations or name too long", owner, dir);
            rc = -1;
            break;
        }
        if (!(names[n] = strdup(e->d_name))) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0)
        qsort(names, n, sizeof(names[0]), cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (rc != 0) {
            free(names[i]);
            continue;
        }
        char path[4096];
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        char *sql = slurp(path, &len);
        if (!sql) {
            snprintf(err, errlen, "%s: cannot read %s", owner, path);
            free(names[i]);
            rc = -1;
            continue;
        }
        mig_file_t *f = &s->files[s->n++];
        f->owner = owner;
        f->name = names[i];
        f->sql = sql;
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, (const unsigned char *)sql, len);
        sodium_bin2hex(f->sum, sizeof(f->sum), h, sizeof(h));
    }
    return rc;
}

int portail_module_data_dir(const portail_conf_t *c, const portail_module_conf_t *m, char *buf,
                            size_t len)
{
    int n = m->dir ? snprintf(buf, len, "%s", m->dir)
                   : snprintf(buf, len, "%s/modules/%s", c->data_dir, m->name);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The core's files, then each enabled module's, in config order. */
static mig_set_t *scan_all(const portail_conf_t *c, const char *core_dir, FILE *out, char *err,
                           size_t errlen)
{
    mig_set_t *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char dir[4096];
    if (!core_dir) {
        snprintf(dir, sizeof(dir), "%s/sql", c->data_dir);
        core_dir = dir;
    }
    s->owners[s->nowners++] = "core";
    if (scan_dir(s, "core", core_dir, 1, err, errlen) < 0)
        goto fail;
    for (size_t i = 0; i < c->nmodules && s->nowners < MIG_MAX_OWNERS; i++) {
        const portail_module_conf_t *m = &c->modules[i];
        if (!m->enabled) {
            if (out)
                fprintf(out, "%s: disabled, not migrated\n", m->name);
            continue;
        }
        char mdir[4096];
        if (portail_module_data_dir(c, m, mdir, sizeof(mdir) - 4) < 0) {
            snprintf(err, errlen, "%s: module directory path too long", m->name);
            goto fail;
        }
        strcat(mdir, "/sql");
        s->owners[s->nowners++] = m->name;
        if (scan_dir(s, m->name, mdir, 0, err, errlen) < 0)
            goto fail;
    }
    return s;
fail:
    set_free(s);
    return NULL;
}

/* 1 recorded with the same checksum, 0 not recorded, 2 recorded with another
 * checksum, -1 database error. */
static int recorded(portail_db_t *db, const mig_file_t *f)
{
    json_t *row = portail_db_row(db,
                                 "SELECT checksum FROM portail_migrations"
                                 " WHERE module = ? AND file = ?",
                                 "ss", f->owner, f->name);
    if (portail_db_failed(db))
        return -1;
    if (!row)
        return 0;
    const char *sum = portail_row_str(row, "checksum");
    return sum && strcmp(sum, f->sum) == 0 ? 1 : 2;
}

static int table_exists(portail_db_t *db, const char *table)
{
    json_t *row = portail_db_row(db,
                                 "SELECT 1 AS yes FROM information_schema.tables"
                                 " WHERE table_schema = DATABASE() AND table_name = ?",
                                 "s", table);
    if (portail_db_failed(db))
        return -1;
    return row != NULL;
}

static int changed(const mig_file_t *f, char *err, size_t errlen)
{
    snprintf(err, errlen,
             "%s: %s changed after it was applied (checksum differs); restore it and put the "
             "change in a new file",
             f->owner, f->name);
    return -1;
}

int portail_migrate_check(portail_db_t *db, const portail_conf_t *c, char *err, size_t errlen)
{
    mig_set_t *s = scan_all(c, NULL, NULL, err, errlen);
    if (!s)
        return -1;
    int rc = 0;
    int have = table_exists(db, "portail_migrations");
    if (have < 0) {
        snprintf(err, errlen, "cannot read the migrations table");
        rc = -1;
    } else if (!have && s->n > 0) {
        snprintf(err, errlen,
                 "%s: migration %s not applied (no portail_migrations table); run portailctl "
                 "migrate",
                 s->files[0].owner, s->files[0].name);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && have > 0 && i < s->n; i++) {
        const mig_file_t *f = &s->files[i];
        switch (recorded(db, f)) {
        case 1:
            break;
        case 0:
            snprintf(err, errlen, "%s: migration %s not applied; run portailctl migrate", f->owner,
                     f->name);
            rc = -1;
            break;
        case 2:
            rc = changed(f, err, errlen);
            break;
        default:
            snprintf(err, errlen, "cannot read the migrations table");
            rc = -1;
        }
    }
    set_free(s);
    return rc;
}

/* A database made before per-module migrations recorded bare file names in
 * schema_migrations(version). A file found there is adopted (recorded with
 * today's checksum, not run again) by the first owner that has a file of
 * that name, so 003_login.sql, now in modules/login/sql/, is not re-run. */
static int adoptable(portail_db_t *db, const mig_file_t *f)
{
    json_t *row =
        portail_db_row(db, "SELECT version FROM schema_migrations WHERE version = ?", "s", f->name);
    if (portail_db_failed(db))
        return -1;
    if (!row)
        return 0;
    row = portail_db_row(db, "SELECT module FROM portail_migrations WHERE file = ? LIMIT 1", "s",
                         f->name);
    if (portail_db_failed(db))
        return -1;
    return row == NULL;
}

static int lock(portail_db_t *db, int wait_s, FILE *out, char *err, size_t errlen)
{
    /* Named after the database: migrates of two databases on one server do
     * not wait for each other. */
    static const char *q = "SELECT GET_LOCK(CONCAT('portail_migrate:', DATABASE()), ?) AS got";
    json_t *row = portail_db_row(db, q, "i", 0);
    if (row && portail_row_int(row, "got", 0) != 1 && wait_s > 0) {
        fprintf(out, "waiting for another migrate of this database (at most %d s)\n", wait_s);
        fflush(out);
        row = portail_db_row(db, q, "i", wait_s);
    }
    if (!row || portail_row_int(row, "got", 0) != 1) {
        snprintf(err, errlen,
                 "another migrate of this database is running (lock not free after %d s)", wait_s);
        return -1;
    }
    return 0;
}

static void unlock(portail_db_t *db)
{
    portail_db_row(db, "SELECT RELEASE_LOCK(CONCAT('portail_migrate:', DATABASE())) AS r", "");
}

static int apply(portail_db_t *db, mig_set_t *s, int legacy, FILE *out, char *err, size_t errlen)
{
    /* Every checksum first: an edited file stops the run before anything of
     * it is applied. */
    for (size_t i = 0; i < s->n; i++) {
        int r = recorded(db, &s->files[i]);
        if (r < 0) {
            snprintf(err, errlen, "cannot read the migrations table");
            return -1;
        }
        if (r == 2)
            return changed(&s->files[i], err, errlen);
        s->files[i].applied = r == 1;
    }
    /* The files are in owner order (scan_all). */
    for (size_t o = 0, i = 0; o < s->nowners; o++) {
        int did = 0;
        for (; i < s->n && strcmp(s->files[i].owner, s->owners[o]) == 0; i++) {
            mig_file_t *f = &s->files[i];
            if (f->applied)
                continue;
            int adopt = legacy ? adoptable(db, f) : 0;
            if (adopt < 0) {
                snprintf(err, errlen, "cannot read schema_migrations");
                return -1;
            }
            /* DDL commits implicitly in MariaDB: a failed file is reported
             * with its name and must be fixed by hand before the next run. */
            char why[1024];
            if (!adopt && portail_db_run_script(db, f->sql, why, sizeof(why)) < 0) {
                snprintf(err, errlen, "%s: %s: %s", f->owner, f->name, why);
                return -1;
            }
            if (portail_db_exec(db,
                                "INSERT INTO portail_migrations (module, file, checksum)"
                                " VALUES (?, ?, ?)",
                                "sss", f->owner, f->name, f->sum) != 1) {
                snprintf(err, errlen, "%s: %s: cannot record it", f->owner, f->name);
                return -1;
            }
            if (adopt)
                fprintf(out, "%s: adopted %s (applied before, recorded in schema_migrations)\n",
                        f->owner, f->name);
            else
                fprintf(out, "%s: applied %s\n", f->owner, f->name);
            did++;
        }
        if (!did)
            fprintf(out, "%s: up to date\n", s->owners[o]);
    }
    return 0;
}

int portail_migrate(portail_db_t *db, const portail_conf_t *c, const char *core_dir, int wait_s,
                    FILE *out, char *err, size_t errlen)
{
    mig_set_t *s = scan_all(c, core_dir, out, err, errlen);
    if (!s)
        return -1;
    if (lock(db, wait_s, out, err, errlen) < 0) {
        set_free(s);
        return -1;
    }
    int rc = 0;
    char why[1024];
    if (portail_db_run_script(db,
                              "CREATE TABLE IF NOT EXISTS portail_migrations ("
                              " module VARCHAR(64) NOT NULL,"
                              " file VARCHAR(255) NOT NULL,"
                              " checksum CHAR(64) NOT NULL,"
                              " applied_at DATETIME NOT NULL DEFAULT (UTC_TIMESTAMP()),"
                              " PRIMARY KEY (module, file))"
                              " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
                              why, sizeof(why)) < 0) {
        snprintf(err, errlen, "portail_migrations: %s", why);
        rc = -1;
    }
    int legacy = rc == 0 ? table_exists(db, "schema_migrations") : 0;
    if (legacy < 0) {
        snprintf(err, errlen, "cannot read information_schema");
        rc = -1;
    }
    if (rc == 0)
        rc = apply(db, s, legacy, out, err, errlen);
    unlock(db);
    set_free(s);
    return rc;
}

/* Demo data of the modules: after the core's seed (core/seed.c), each
 * enabled module's <dir>/seed.sql, if it has one, in config order. A seed
 * file must be idempotent (INSERT IGNORE, NOT EXISTS): `portailctl seed` is
 * run again on every `script/server`. It reads the core's insured persons and
 * members; it never runs on a database that seed did not mark as a demo one,
 * since it is only reached through `portailctl seed` and `portailctl demo`
 * (which checks the mark). out may be NULL (nothing printed). */
int portail_seed_modules(portail_db_t *db, const portail_conf_t *c, FILE *out, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < c->nmodules; i++) {
        const portail_module_conf_t *m = &c->modules[i];
        char dir[1024], path[1100];
        if (!m->enabled || portail_module_data_dir(c, m, dir, sizeof(dir)) < 0)
            continue;
        snprintf(path, sizeof(path), "%s/seed.sql", dir);
        size_t len = 0;
        char *sql = slurp(path, &len);
        if (!sql)
            continue;
        char serr[512] = "";
        int rc = portail_db_run_script(db, sql, serr, sizeof(serr));
        free(sql);
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s", path, serr);
            return -1;
        }
        if (out)
            fprintf(out, "%s: seeded\n", m->name);
    }
    return 0;
}
