/* The connection handle shared by pool.c (lifecycle, statement cache) and
 * db.c (typed helpers). Nothing else includes this. */
#ifndef PORTAIL_DB_INTERNAL_H
#define PORTAIL_DB_INTERNAL_H

#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "internal.h"

typedef struct dbi_stmt_slot {
    char *sql; /* malloc'd: outlives every request */
    /* The caller's text pointer at the last hit: a string literal, mostly,
     * so that a lookup is a pointer and a strcmp, not a hash of the text. */
    const char *seen;
    uint64_t hash;
    MYSQL_STMT *stmt;
    uint64_t last_use; /* LRU tick */
} dbi_stmt_slot_t;

struct portail_db {
    portail_pool_t *pool;
    MYSQL *mysql; /* NULL until first connect, and after a broken one is closed */
    bool broken;  /* connection lost: closed at release, reopened at next acquire */
    bool in_tx;
    /* The first conflict (1213, 1205) of the open transaction, 0 if none:
     * a later statement (a clean-up after the failure) resets err, and on
     * Galera any statement after a brute-force abort can be the one that
     * reports it; portail_db_tx_retry reruns on this. */
    unsigned tx_conflict;
    dbi_stmt_slot_t *stmts; /* pool->conf.stmt_cache entries */
    unsigned nstmts;
    uint64_t tick;
    struct timespec last_used; /* CLOCK_MONOTONIC, at release */
    /* per acquisition */
    portail_arena_t *arena;
    char request_id[33];
    bool failed;
    unsigned err;
    uint64_t insert_id;
    long long scope_member; /* bound by format 'M' (portail_member_*), 0 otherwise */
};

/* Client and server error numbers meaning the connection is gone. */
bool dbi_conn_lost(unsigned err);
/* Errors after which a whole transaction may be rerun (deadlock or Galera
 * conflict, lock wait timeout). */
bool dbi_tx_retryable(unsigned err);
/* Prepared statement for sql, from the connection's cache when possible.
 * NULL on failure with db->failed/db->err set and the error logged. */
MYSQL_STMT *dbi_prepare(portail_db_t *db, const char *sql);
/* Frees the statement's result and, when it was not cached, the statement. */
void dbi_done(portail_db_t *db, MYSQL_STMT *stmt);
/* Records a failure of the last call (marking the connection broken when it
 * is lost) and logs it; sql is only logged, never its parameters. */
void dbi_fail(portail_db_t *db, unsigned err, const char *msg, const char *what, const char *sql);

/* ---- result rows (db.c), shared by the jansson and the direct JSON paths;
 * in this header so that tests/unit can check that both render a column
 * the same way without a server. */
enum dbi_col_kind {
    K_INT,
    K_FLOAT,
    K_DOUBLE,
    K_DECIMAL,
    K_DATETIME,
    K_DATE,
    K_TIME,
    K_BIT,
    K_BIN,
    K_TEXT
};

typedef struct dbi_col {
    enum dbi_col_kind kind;
    unsigned long len;
    my_bool null;
    my_bool error;
    union {
        long long l;
        double d;
        float f;
        MYSQL_TIME t;
    } v;
    char *buf;
    char txt[24]; /* a date's text for portail_dbrow_str */
} dbi_col_t;

enum dbi_col_kind dbi_classify(const MYSQL_FIELD *f);
/* The column as a jansson value (portail_db_rows), NULL when it cannot be
 * one (a text that is not UTF-8, logged). */
json_t *dbi_col_value(portail_db_t *db, const MYSQL_FIELD *f, const dbi_col_t *c);
/* The same value's JSON text appended to w (portail_db_rows_json). */
int dbi_col_write(portail_jw_t *w, portail_db_t *db, const MYSQL_FIELD *f, const dbi_col_t *c);

/* Names looked up by the row callbacks, remembered by the caller's pointer
 * (a string literal): a lookup per field per row is then a pointer compare. */
#define DBI_ROW_NAMES 16

struct portail_dbrow {
    portail_db_t *db;
    const MYSQL_FIELD *f;
    dbi_col_t *c;
    unsigned nf;
    size_t index;
    struct {
        const char *name;
        int col;
    } names[DBI_ROW_NAMES];
    unsigned nnames;
    const char *const *skip_key; /* portail_dbrow_fields' last skip list */
    uint64_t skip_mask;
    /* The columns' keys as written ("name":), once per result set. */
    char **keys;
    size_t *keylens;
};

#endif
