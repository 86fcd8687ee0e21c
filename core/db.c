/* Typed database helpers over the pool: parameters from a format string,
 * rows out as jansson objects owned by the request arena. */
#include <errmsg.h>
#include <mysqld_error.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "db_internal.h"
#include "portail/http.h"
#include "portail/texts.h"

/* Parameters bound from the stack up to this count; more go to the arena. */
#define STACK_PARAMS 32
/* A row's column buffers up to this size live on the worker's stack: a
 * heap block of 1 KiB or more makes glibc consolidate its fast bins, which
 * cost GET /me more than the rest of the fetch (callgrind,
 * docs/performance.md). */
#define STACK_ROW_BYTES 4096

static const char *rid(const portail_db_t *db)
{
    return db->request_id[0] ? db->request_id : NULL;
}

static void release_fn(void *data)
{
    portail_pool_release(data);
}

portail_db_t *portail_db(portail_ctx_t *ctx)
{
    if (ctx->db)
        return ctx->db;
    int why = PORTAIL_POOL_OK;
    portail_db_t *db = portail_pool_acquire(ctx->host->pool, ctx->arena, ctx->request_id,
                                            ctx->host->conf->db.acquire_timeout_ms, &why);
    if (!db) {
        portail_problem_retry(ctx, 503, 1, TXT_COMMUN_SERVICE_MOMENTANEMENT_INDISPONIBLE,
                              why == PORTAIL_POOL_EXHAUSTED ? TXT_DB_SERVICE_TRES_SOLLICITE
                                                            : TXT_DB_SERVICE_INDISPONIBLE);
        return NULL;
    }
    portail_arena_defer(ctx->arena, release_fn, db);
    ctx->db = db;
    return db;
}

/* Execute-time messages can quote the offending value ("Duplicate entry
 * 'x@y.fr' for key ..."), and values may be secrets: quoted spans are masked
 * before logging. */
static void fail_stmt(portail_db_t *db, MYSQL_STMT *st, const char *what, const char *sql)
{
    char msg[256];
    const char *src = mysql_stmt_error(st);
    size_t o = 0;
    bool quoted = false;
    for (; *src && o + 4 < sizeof msg; src++) {
        if (*src == '\'') {
            if (!quoted) {
                msg[o++] = '\'';
                msg[o++] = '.';
                msg[o++] = '.';
                msg[o++] = '.';
            } else {
                msg[o++] = '\'';
            }
            quoted = !quoted;
        } else if (!quoted) {
            msg[o++] = *src;
        }
    }
    msg[o] = '\0';
    dbi_fail(db, mysql_stmt_errno(st), msg, what, sql);
}

static int simple_query(portail_db_t *db, const char *sql)
{
    db->failed = false;
    db->err = 0;
    if (!db->mysql || db->broken) {
        dbi_fail(db, CR_SERVER_GONE_ERROR, "connection lost earlier in this request", "query", sql);
        return -1;
    }
    if (mysql_real_query(db->mysql, sql, (unsigned long)strlen(sql)) != 0) {
        dbi_fail(db, mysql_errno(db->mysql), mysql_error(db->mysql), "query", sql);
        return -1;
    }
    return 0;
}

/* Our transaction is open but the server's last answer says it is not: it
 * ended it under us (a rollback whose error reached no statement of ours, a
 * COMMIT or ROLLBACK run as a statement). What runs next would be
 * autocommitted and COMMIT succeed on nothing, so it is recorded as a
 * conflict (1213): the statements after it refused, the COMMIT refused, the
 * transaction rerun whole. Free: the flag comes with every answer. True when
 * recorded. */
static bool tx_ended_by_server(portail_db_t *db, const char *what, const char *sql)
{
    if (!db->in_tx || !db->mysql || (db->mysql->server_status & SERVER_STATUS_IN_TRANS))
        return false;
    dbi_fail(db, ER_LOCK_DEADLOCK, "the server ended the transaction", what, sql);
    return true;
}

int portail_db_begin(portail_db_t *db)
{
    if (db->in_tx) {
        /* START TRANSACTION would silently commit the open one. */
        db->failed = true;
        db->err = CR_COMMANDS_OUT_OF_SYNC;
        portail_logf("error", rid(db), "db begin: a transaction is already open");
        return -1;
    }
    if (simple_query(db, "START TRANSACTION") != 0)
        return -1;
    db->in_tx = true;
    db->tx_conflict = 0;
    return 0;
}

int portail_db_commit(portail_db_t *db)
{
    /* A 1213 in the transaction (a deadlock; on Galera also a brute-force
     * abort, reported by whatever statement runs next) made the server roll
     * it all back, even when the caller went on past that error (a failed
     * lookup taken as "no name"): COMMIT would then succeed on nothing, and
     * the request acknowledge a write that never happened (tests/cluster's
     * node-kill load, docs/scaling.md). A 1205 leaves the transaction
     * without the statement that timed out. Neither is committed. */
    if (!db->tx_conflict)
        (void)tx_ended_by_server(db, "commit", NULL);
    if (db->in_tx && db->tx_conflict) {
        unsigned err = db->tx_conflict;
        portail_logf("warn", rid(db), "db commit refused: error %u earlier in the transaction",
                     err);
        portail_db_rollback(db);
        db->failed = true;
        db->err = err;
        return -1;
    }
    /* On failure in_tx stays set, so that a rollback (ours at release if the
     * caller forgets) ends whatever the server still holds. */
    if (simple_query(db, "COMMIT") != 0)
        return -1;
    db->in_tx = false;
    return 0;
}

int portail_db_rollback(portail_db_t *db)
{
    int rc = simple_query(db, "ROLLBACK");
    if (rc != 0 && !db->broken) {
        /* The session's transaction state is unknown: never hand it on. */
        db->broken = true;
    }
    db->in_tx = false;
    return rc;
}

bool dbi_tx_retryable(unsigned err)
{
    return err == 1213 || err == 1205;
}

int portail_db_tx_retry(portail_db_t *db, portail_db_tx_fn fn, void *arg, int *attempts)
{
    if (db->in_tx) {
        /* Inside the caller's transaction: only its owner can rerun the
         * whole, so fn runs once and the caller commits or rolls back. */
        if (attempts)
            *attempts = 1;
        return fn(db, arg) == 0 ? 0 : -1;
    }
    int n = 0;
    for (;;) {
        n++;
        if (attempts)
            *attempts = n;
        if (portail_db_begin(db) != 0)
            return -1;
        if (fn(db, arg) == 0 && portail_db_commit(db) == 0)
            return 0;
        /* The transaction's conflict, even when a later statement went
         * through (a clean-up run after the failed one). */
        unsigned err = db->tx_conflict ? db->tx_conflict : db->err;
        bool failed = db->failed || db->tx_conflict;
        if (db->in_tx && !db->broken)
            portail_db_rollback(db);
        /* The rollback's own success must not hide why we stopped. */
        db->failed = failed;
        db->err = err;
        if (!failed || !dbi_tx_retryable(err) || db->broken || n >= PORTAIL_DB_TX_ATTEMPTS)
            return -1;
        /* 5..20 ms, then 10..40 ms: the winner of the conflict commits in
         * the meantime; the jitter keeps two losers from meeting again. */
        long ms = (5L << (n - 1)) + (long)randombytes_uniform((uint32_t)(15L << (n - 1)) + 1);
        portail_logf("warn", rid(db), "db tx: error %u, attempt %d of %d, again in %ld ms", err, n,
                     PORTAIL_DB_TX_ATTEMPTS, ms);
        struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
        nanosleep(&ts, NULL);
    }
}

typedef struct ctx_tx {
    portail_ctx_t *ctx;
    portail_tx_fn fn;
    void *arg;
    portail_answer_mark_t mark;
    int runs;
    int fn_rc; /* of the last run */
} ctx_tx_t;

static int ctx_tx(portail_db_t *db, void *arg)
{
    ctx_tx_t *t = arg;
    if (t->runs++ > 0)
        portail_answer_reset(t->ctx, &t->mark);
    t->fn_rc = t->fn(t->ctx, db, t->arg);
    return t->fn_rc;
}

int portail_tx_retry(portail_ctx_t *ctx, portail_tx_fn fn, void *arg)
{
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    ctx_tx_t t = {.ctx = ctx, .fn = fn, .arg = arg};
    portail_answer_mark(ctx, &t.mark);
    int rc = portail_db_tx_retry(db, ctx_tx, &t, NULL);
    if (rc == 0)
        return 0;
    /* fn went through but the COMMIT failed for good: what fn answered
     * (a 200, a new session's cookie) is not true. */
    if (t.fn_rc == 0)
        portail_answer_reset(ctx, &t.mark);
    /* Here rather than at every caller: a transaction that failed without
     * its own answer (a COMMIT, a BEGIN, the conflicts' bound) is a 500. */
    if (!portail_responded(ctx)) {
        portail_logf("error", rid(db), "transaction not committed (error %u)",
                     portail_db_errno(db));
        portail_problem(ctx, 500, NULL, NULL);
    }
    return -1;
}

typedef union param_value {
    int i;
    long long l;
    double d;
} param_value_t;

/* Prepares, binds and executes. The statement (to pass to dbi_done), or NULL
 * with the failure recorded. */
static MYSQL_STMT *run(portail_db_t *db, const char *sql, const char *fmt, va_list ap)
{
    db->failed = false;
    db->err = 0;
    if (!fmt)
        fmt = "";
    size_t n = strlen(fmt);
    MYSQL_STMT *st = dbi_prepare(db, sql);
    if (!st)
        return NULL;
    if (mysql_stmt_param_count(st) != n) {
        char msg[96];
        snprintf(msg, sizeof msg, "statement has %lu placeholders, format gives %zu",
                 mysql_stmt_param_count(st), n);
        dbi_fail(db, CR_INVALID_PARAMETER_NO, msg, "bind", sql);
        dbi_done(db, st);
        return NULL;
    }

    MYSQL_BIND stack_bind[STACK_PARAMS];
    param_value_t stack_val[STACK_PARAMS];
    MYSQL_BIND *b = stack_bind;
    param_value_t *v = stack_val;
    if (n > STACK_PARAMS) {
        b = portail_alloc(db->arena, n * sizeof *b);
        v = portail_alloc(db->arena, n * sizeof *v);
    }
    if (n)
        memset(b, 0, n * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        switch (fmt[i]) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) {
                b[i].buffer_type = MYSQL_TYPE_NULL;
            } else {
                b[i].buffer_type = MYSQL_TYPE_STRING;
                b[i].buffer = (void *)s;
                b[i].buffer_length = (unsigned long)strlen(s);
            }
            break;
        }
        case 'b': {
            const void *p = va_arg(ap, const void *);
            size_t len = va_arg(ap, size_t);
            if (!p) {
                b[i].buffer_type = MYSQL_TYPE_NULL;
            } else {
                b[i].buffer_type = MYSQL_TYPE_BLOB;
                b[i].buffer = (void *)p;
                b[i].buffer_length = (unsigned long)len;
            }
            break;
        }
        case 'i':
            v[i].i = va_arg(ap, int);
            b[i].buffer_type = MYSQL_TYPE_LONG;
            b[i].buffer = &v[i].i;
            break;
        case 'l':
            v[i].l = va_arg(ap, long long);
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = &v[i].l;
            break;
        case 'M': /* set only by portail_member_* */
            v[i].l = db->scope_member;
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = &v[i].l;
            break;
        case 'd':
            v[i].d = va_arg(ap, double);
            b[i].buffer_type = MYSQL_TYPE_DOUBLE;
            b[i].buffer = &v[i].d;
            break;
        default: {
            char msg[64];
            snprintf(msg, sizeof msg, "unknown format character at position %zu", i);
            dbi_fail(db, CR_UNSUPPORTED_PARAM_TYPE, msg, "bind", sql);
            dbi_done(db, st);
            return NULL;
        }
        }
    }
    if (n && mysql_stmt_bind_param(st, b) != 0) {
        fail_stmt(db, st, "bind", sql);
        dbi_done(db, st);
        return NULL;
    }
    if (mysql_stmt_execute(st) != 0) {
        fail_stmt(db, st, "execute", sql);
        dbi_done(db, st);
        return NULL;
    }
    if (tx_ended_by_server(db, "execute", sql)) {
        dbi_done(db, st);
        return NULL;
    }
    return st;
}

static long long exec_v(portail_db_t *db, const char *sql, const char *fmt, va_list ap)
{
    db->insert_id = 0;
    MYSQL_STMT *st = run(db, sql, fmt, ap);
    if (!st)
        return -1;
    long long n;
    if (mysql_stmt_field_count(st) > 0) {
        /* A statement with a result set: the rows must be read off the wire
         * before the connection can be used again; count them. */
        if (mysql_stmt_store_result(st) != 0) {
            fail_stmt(db, st, "store", sql);
            dbi_done(db, st);
            return -1;
        }
        n = (long long)mysql_stmt_num_rows(st);
    } else {
        n = (long long)mysql_stmt_affected_rows(st);
        db->insert_id = mysql_stmt_insert_id(st);
    }
    dbi_done(db, st);
    return n;
}

long long portail_db_exec(portail_db_t *db, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    long long n = exec_v(db, sql, fmt, ap);
    va_end(ap);
    return n;
}

uint64_t portail_db_insert_id(const portail_db_t *db)
{
    return db->insert_id;
}

int portail_db_failed(const portail_db_t *db)
{
    return db->failed;
}

unsigned portail_db_errno(const portail_db_t *db)
{
    return db->failed ? db->err : 0;
}

/* ---- result sets -------------------------------------------------------- */

typedef dbi_col_t col_t;

/* DECIMAL(65,30) with sign and point fits. */
#define DECIMAL_BUF 80
/* BIT(64) */
#define BIT_BUF 8

/* Inlined in rows_open (a call per column showed in GET /me's count). */
static inline __attribute__((always_inline)) enum dbi_col_kind classify(const MYSQL_FIELD *f)
{
    switch (f->type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
        return K_INT;
    case MYSQL_TYPE_FLOAT:
        return K_FLOAT;
    case MYSQL_TYPE_DOUBLE:
        return K_DOUBLE;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
        return K_DECIMAL;
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_DATETIME2:
    case MYSQL_TYPE_TIMESTAMP2:
        return K_DATETIME;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
        return K_DATE;
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_TIME2:
        return K_TIME;
    case MYSQL_TYPE_BIT:
        return K_BIT;
    default:
        /* charsetnr 63 is "binary": BINARY, VARBINARY, BLOB, GEOMETRY. */
        return f->charsetnr == 63 ? K_BIN : K_TEXT;
    }
}

/* FLOAT arrives as a C float; widening it prints 0.1 as 0.10000000149. The
 * shortest decimal that reads back as the same float is what was stored. */
static double float_value(float f)
{
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f)
            break;
    }
    return strtod(buf, NULL);
}

static json_t *hex_value(const char *p, unsigned long len)
{
    char *hex = malloc((size_t)len * 2 + 1);
    if (!hex)
        return NULL;
    sodium_bin2hex(hex, (size_t)len * 2 + 1, (const unsigned char *)p, len);
    json_t *j = json_stringn_nocheck(hex, (size_t)len * 2);
    free(hex);
    return j;
}

/* Dates are written by hand: a list page has a hundred of them, and
 * snprintf's format parsing showed in profiles of such a page. */
static void two_digits(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

static void iso_date(char *p, const MYSQL_TIME *t)
{
    two_digits(p, t->year / 100);
    two_digits(p + 2, t->year % 100);
    p[4] = '-';
    two_digits(p + 5, t->month);
    p[7] = '-';
    two_digits(p + 8, t->day);
}

/* The text of a DATETIME, DATE or TIME column into buf[48]; its length. */
static size_t time_text(char *buf, const col_t *c)
{
    const MYSQL_TIME *t = &c->v.t;
    switch (c->kind) {
    case K_DATETIME:
        if (t->year > 9999) /* never from MariaDB; kept as it was */
            return (size_t)snprintf(buf, 48, "%04u-%02u-%02uT%02u:%02u:%02uZ", t->year, t->month,
                                    t->day, t->hour, t->minute, t->second);
        iso_date(buf, t);
        buf[10] = 'T';
        two_digits(buf + 11, t->hour);
        buf[13] = ':';
        two_digits(buf + 14, t->minute);
        buf[16] = ':';
        two_digits(buf + 17, t->second);
        buf[19] = 'Z';
        buf[20] = '\0';
        return 20;
    case K_DATE:
        if (t->year > 9999)
            return (size_t)snprintf(buf, 48, "%04u-%02u-%02u", t->year, t->month, t->day);
        iso_date(buf, t);
        buf[10] = '\0';
        return 10;
    default:
        return (size_t)snprintf(buf, 48, "%s%02u:%02u:%02u", t->neg ? "-" : "",
                                t->day * 24 + t->hour, t->minute, t->second);
    }
}

/* A BIT column as an unsigned integer. */
static unsigned long long bit_value(const col_t *c)
{
    unsigned long long x = 0;
    for (unsigned long i = 0; i < c->len && i < BIT_BUF; i++)
        x = (x << 8) | (unsigned char)c->buf[i];
    return x;
}

/* An unsigned integer beyond a JSON integer here keeps every digit as a
 * string; 1 when v is one (its digits in buf[24]). */
static inline int big_unsigned(const MYSQL_FIELD *f, const col_t *c, char *buf)
{
    unsigned long long u;
    if (c->kind == K_BIT)
        u = bit_value(c);
    else if ((f->flags & UNSIGNED_FLAG) && (unsigned long long)c->v.l > LLONG_MAX)
        u = (unsigned long long)c->v.l;
    else
        return 0;
    if (u <= LLONG_MAX)
        return 0;
    snprintf(buf, 24, "%llu", u);
    return 1;
}

/* Inlined in fetch as it was before the direct path shared it. */
static inline __attribute__((always_inline)) json_t *col_value(portail_db_t *db,
                                                               const MYSQL_FIELD *f, const col_t *c)
{
    char buf[48];
    if (c->null)
        return json_null();
    switch (c->kind) {
    case K_INT:
    case K_BIT:
        if (big_unsigned(f, c, buf))
            return json_string(buf);
        return json_integer(c->kind == K_BIT ? (long long)bit_value(c) : c->v.l);
    case K_FLOAT:
        return json_real(float_value(c->v.f));
    case K_DOUBLE:
        return json_real(c->v.d);
    case K_DECIMAL:
        c->buf[c->len < DECIMAL_BUF ? c->len : DECIMAL_BUF - 1] = '\0';
        return json_real(strtod(c->buf, NULL));
    case K_DATETIME:
    case K_DATE:
    case K_TIME: {
        size_t n = time_text(buf, c);
        return json_stringn_nocheck(buf, n);
    }
    case K_BIN:
        return hex_value(c->buf, c->len);
    case K_TEXT: {
        json_t *j = json_stringn(c->buf, c->len);
        if (!j)
            portail_logf("error", rid(db), "db: column %s is not valid UTF-8", f->name);
        return j;
    }
    }
    return NULL;
}

static inline int col_write(portail_jw_t *w, portail_db_t *db, const MYSQL_FIELD *f, const col_t *c)
{
    char buf[48];
    if (c->null)
        return portail_jw_null(w);
    switch (c->kind) {
    case K_INT:
    case K_BIT:
        if (big_unsigned(f, c, buf))
            return portail_jw_str(w, buf);
        return portail_jw_int(w, c->kind == K_BIT ? (long long)bit_value(c) : c->v.l);
    case K_DATETIME:
    case K_DATE:
    case K_TIME: {
        size_t n = time_text(buf, c);
        return portail_jw_strn(w, buf, n);
    }
    case K_TEXT:
        if (portail_jw_strn(w, c->buf, c->len) != 0) {
            portail_logf("error", rid(db), "db: column %s is not valid UTF-8", f->name);
            return -1;
        }
        return 0;
    case K_BIN:
        if (c->len <= 512) {
            char hex[1025];
            sodium_bin2hex(hex, sizeof hex, (const unsigned char *)c->buf, c->len);
            return portail_jw_strn(w, hex, (size_t)c->len * 2);
        }
        break;
    default:
        break;
    }
    /* Reals (jansson's shortest digits) and long binary values: through
     * the jansson value, so that the text is the same by construction. */
    json_t *j = col_value(db, f, c);
    int rc = portail_jw_json(w, j);
    json_decref(j);
    return rc;
}

/* For tests/unit (the paths above are inlined where rows are read). */
enum dbi_col_kind dbi_classify(const MYSQL_FIELD *f)
{
    return classify(f);
}

json_t *dbi_col_value(portail_db_t *db, const MYSQL_FIELD *f, const col_t *c)
{
    return col_value(db, f, c);
}

int dbi_col_write(portail_jw_t *w, portail_db_t *db, const MYSQL_FIELD *f, const col_t *c)
{
    return col_write(w, db, f, c);
}

/* An executed statement's result bound to column buffers, on the caller's
 * stack when they fit. */
typedef struct rowset {
    MYSQL_RES *meta;
    MYSQL_FIELD *f;
    unsigned nf;
    MYSQL_BIND *b;
    col_t *c;
    char *bufs;
    MYSQL_BIND stack_bind[STACK_PARAMS];
    col_t stack_col[STACK_PARAMS];
    char stack_bufs[STACK_ROW_BYTES];
} rowset_t;

static void rows_close(rowset_t *r)
{
    if (r->bufs != r->stack_bufs)
        free(r->bufs);
    if (r->c != r->stack_col)
        free(r->c);
    if (r->b != r->stack_bind)
        free(r->b);
    if (r->meta)
        mysql_free_result(r->meta);
}

/* Stores the rows and binds r's buffers: 0, or -1 with the failure
 * recorded (rows_close is due either way). */
static int rows_open(portail_db_t *db, MYSQL_STMT *st, const char *sql, rowset_t *r)
{
    r->b = r->stack_bind;
    r->c = r->stack_col;
    r->bufs = r->stack_bufs;
    r->meta = mysql_stmt_result_metadata(st);
    if (!r->meta) {
        dbi_fail(db, CR_NO_DATA, "statement returns no result set", "fetch", sql);
        return -1;
    }
    unsigned nf = r->nf = mysql_num_fields(r->meta);
    MYSQL_FIELD *f = r->f = mysql_fetch_fields(r->meta);

    /* Buffers are sized from max_length, known once every row is stored
     * (STMT_ATTR_UPDATE_MAX_LENGTH is set at prepare). */
    if (mysql_stmt_store_result(st) != 0) {
        fail_stmt(db, st, "store", sql);
        return -1;
    }
    if (nf <= STACK_PARAMS) {
        memset(r->stack_bind, 0, nf * sizeof *r->stack_bind);
        memset(r->stack_col, 0, nf * sizeof *r->stack_col);
    } else {
        r->b = calloc(nf, sizeof *r->b);
        r->c = calloc(nf, sizeof *r->c);
    }
    MYSQL_BIND *b = r->b;
    col_t *c = r->c;
    if (!b || !c) {
        dbi_fail(db, CR_OUT_OF_MEMORY, "out of memory", "fetch", sql);
        return -1;
    }
    size_t total = 1;
    for (unsigned i = 0; i < nf; i++) {
        c[i].kind = classify(&f[i]);
        if (c[i].kind == K_DECIMAL)
            total += DECIMAL_BUF;
        else if (c[i].kind == K_BIT)
            total += BIT_BUF;
        else if (c[i].kind == K_BIN || c[i].kind == K_TEXT)
            total += (size_t)f[i].max_length + 1;
    }
    /* malloc, not the arena: a large BLOB should not stay for the whole
     * request once converted. */
    if (total > sizeof r->stack_bufs)
        r->bufs = malloc(total);
    if (!r->bufs) {
        dbi_fail(db, CR_OUT_OF_MEMORY, "out of memory", "fetch", sql);
        return -1;
    }
    size_t off = 0;
    for (unsigned i = 0; i < nf; i++) {
        b[i].length = &c[i].len;
        b[i].is_null = &c[i].null;
        b[i].error = &c[i].error;
        switch (c[i].kind) {
        case K_INT:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = &c[i].v.l;
            b[i].is_unsigned = (f[i].flags & UNSIGNED_FLAG) != 0;
            break;
        case K_FLOAT:
            b[i].buffer_type = MYSQL_TYPE_FLOAT;
            b[i].buffer = &c[i].v.f;
            break;
        case K_DOUBLE:
            b[i].buffer_type = MYSQL_TYPE_DOUBLE;
            b[i].buffer = &c[i].v.d;
            break;
        case K_DATETIME:
        case K_DATE:
        case K_TIME:
            b[i].buffer_type = c[i].kind == K_DATE   ? MYSQL_TYPE_DATE
                               : c[i].kind == K_TIME ? MYSQL_TYPE_TIME
                                                     : MYSQL_TYPE_DATETIME;
            b[i].buffer = &c[i].v.t;
            b[i].buffer_length = sizeof c[i].v.t;
            break;
        case K_DECIMAL:
        case K_BIT:
        case K_BIN:
        case K_TEXT: {
            size_t sz = c[i].kind == K_DECIMAL ? DECIMAL_BUF
                        : c[i].kind == K_BIT   ? BIT_BUF
                                               : (size_t)f[i].max_length + 1;
            c[i].buf = r->bufs + off;
            off += sz;
            b[i].buffer_type = c[i].kind == K_TEXT ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            b[i].buffer = c[i].buf;
            b[i].buffer_length = (unsigned long)sz;
            break;
        }
        }
    }
    if (mysql_stmt_bind_result(st, b) != 0) {
        fail_stmt(db, st, "bind result", sql);
        return -1;
    }
    return 0;
}

/* The end of a fetch loop: 0 when every row was read, -1 (recorded) when
 * the fetch failed. */
static int rows_end(portail_db_t *db, MYSQL_STMT *st, const char *sql, int rc)
{
    if (rc == 1) {
        fail_stmt(db, st, "fetch", sql);
        return -1;
    }
    if (rc == MYSQL_DATA_TRUNCATED) {
        dbi_fail(db, CR_NO_DATA, "column data truncated", "fetch", sql);
        return -1;
    }
    return 0;
}

/* Reads the executed statement's rows: all of them into an array, or with
 * first_only the first row's object (NULL when there is none). */
static json_t *fetch(portail_db_t *db, MYSQL_STMT *st, const char *sql, bool first_only)
{
    rowset_t r;
    json_t *out = NULL, *rows = NULL, *first = NULL;
    if (rows_open(db, st, sql, &r) != 0)
        goto out;
    if (!first_only && !(rows = json_array())) {
        dbi_fail(db, CR_OUT_OF_MEMORY, "out of memory", "fetch", sql);
        goto out;
    }
    int rc;
    while ((rc = mysql_stmt_fetch(st)) == 0) {
        json_t *row = json_object();
        if (!row)
            goto row_fail;
        /* Column names come from the server in the connection's utf8mb4:
         * checking each again for every row is wasted work. */
        for (unsigned i = 0; i < r.nf; i++) {
            json_t *v = col_value(db, &r.f[i], &r.c[i]);
            if (!v || json_object_set_new_nocheck(row, r.f[i].name, v) != 0) {
                json_decref(row);
                goto row_fail;
            }
        }
        if (first_only) {
            first = row;
            break;
        }
        if (json_array_append_new(rows, row) != 0)
            goto row_fail;
    }
    if (rows_end(db, st, sql, rc) != 0) {
        json_decref(rows);
        goto out;
    }
    out = first_only ? first : rows;
    if (out)
        portail_arena_json(db->arena, out);
    goto out;

row_fail:
    if (!db->failed)
        dbi_fail(db, CR_OUT_OF_MEMORY, "cannot convert row", "fetch", sql);
    json_decref(rows);
out:
    rows_close(&r);
    return out;
}

/* ---- rows written straight into a JSON answer ---------------------------- */

static long long rows_json(portail_db_t *db, portail_jw_t *w, portail_row_fn fn, void *arg,
                           const char *sql, MYSQL_STMT *st)
{
    rowset_t r;
    long long n = -1;
    if (rows_open(db, st, sql, &r) != 0)
        goto out;
    portail_dbrow_t row = {.db = db, .f = r.f, .c = r.c, .nf = r.nf};
    int rc;
    while ((rc = mysql_stmt_fetch(st)) == 0) {
        if ((fn ? fn(w, &row, arg) : portail_dbrow_object(w, &row, NULL)) != 0 ||
            portail_jw_failed(w)) {
            /* The rest of the rows must still leave the wire. */
            while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED)
                ;
            if (!db->failed)
                dbi_fail(db, CR_OUT_OF_MEMORY, "cannot write row", "fetch", sql);
            goto out;
        }
        row.index++;
    }
    if (rows_end(db, st, sql, rc) == 0)
        n = (long long)row.index;
out:
    rows_close(&r);
    return n;
}

long long portail_db_rows_json(portail_db_t *db, portail_jw_t *w, portail_row_fn fn, void *arg,
                               const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    MYSQL_STMT *st = run(db, sql, fmt, ap);
    va_end(ap);
    if (!st)
        return -1;
    long long n = rows_json(db, w, fn, arg, sql, st);
    dbi_done(db, st);
    return n;
}

static int row_col(portail_dbrow_t *row, const char *name)
{
    for (unsigned i = 0; i < row->nnames; i++)
        if (row->names[i].name == name)
            return row->names[i].col;
    int col = -1;
    for (unsigned i = 0; i < row->nf; i++)
        if (strcmp(row->f[i].name, name) == 0) {
            col = (int)i;
            break;
        }
    if (row->nnames < DBI_ROW_NAMES) {
        row->names[row->nnames].name = name;
        row->names[row->nnames].col = col;
        row->nnames++;
    }
    return col;
}

size_t portail_dbrow_index(const portail_dbrow_t *row)
{
    return row->index;
}

int portail_dbrow_null(portail_dbrow_t *row, const char *name)
{
    int i = row_col(row, name);
    return i < 0 || row->c[i].null;
}

long long portail_dbrow_int(portail_dbrow_t *row, const char *name, long long def)
{
    int i = row_col(row, name);
    if (i < 0 || row->c[i].null || (row->c[i].kind != K_INT && row->c[i].kind != K_BIT))
        return def;
    char big[24];
    if (big_unsigned(&row->f[i], &row->c[i], big))
        return def; /* a string in the JSON too */
    return row->c[i].kind == K_BIT ? (long long)bit_value(&row->c[i]) : row->c[i].v.l;
}

const char *portail_dbrow_str(portail_dbrow_t *row, const char *name)
{
    int i = row_col(row, name);
    if (i < 0 || row->c[i].null)
        return NULL;
    col_t *c = &row->c[i];
    switch (c->kind) {
    case K_TEXT:
        /* buf has max_length + 1 bytes: room for the terminator. */
        c->buf[c->len] = '\0';
        return c->buf;
    case K_DATETIME:
    case K_DATE: {
        char buf[48];
        size_t n = time_text(buf, c);
        if (n >= sizeof c->txt)
            return NULL;
        memcpy(c->txt, buf, n + 1);
        return c->txt;
    }
    default:
        return NULL;
    }
}

int portail_dbrow_field(portail_jw_t *w, portail_dbrow_t *row, const char *key, const char *col)
{
    int i = row_col(row, col);
    if (i < 0) {
        portail_logf("error", rid(row->db), "db: no column %s in the row", col);
        portail_jw_fail(w);
        return -1;
    }
    if (portail_jw_key(w, key) != 0)
        return -1;
    return col_write(w, row->db, &row->f[i], &row->c[i]);
}

int portail_dbrow_fields(portail_jw_t *w, portail_dbrow_t *row, const char *const *skip)
{
    /* The skip list's columns, found once per result set (the same list
     * comes back for every row). */
    if (skip && (row->skip_key != skip || row->nf > 64)) {
        row->skip_key = skip;
        row->skip_mask = 0;
        for (unsigned i = 0; i < row->nf && i < 64; i++)
            for (const char *const *s = skip; *s; s++)
                if (strcmp(row->f[i].name, *s) == 0)
                    row->skip_mask |= 1ULL << i;
    }
    if (!row->keys) {
        portail_arena_t *a = row->db->arena;
        row->keys = portail_alloc(a, row->nf * sizeof *row->keys);
        row->keylens = portail_alloc(a, row->nf * sizeof *row->keylens);
        for (unsigned i = 0; i < row->nf; i++)
            row->keys[i] = portail_jw_key_text(a, row->f[i].name, &row->keylens[i]);
    }
    for (unsigned i = 0; i < row->nf; i++) {
        if (skip) {
            if (i < 64 ? (row->skip_mask >> i) & 1 : 0)
                continue;
            if (i >= 64) {
                const char *const *s = skip;
                while (*s && strcmp(row->f[i].name, *s) != 0)
                    s++;
                if (*s)
                    continue;
            }
        }
        if ((row->keys[i] ? portail_jw_key_raw(w, row->keys[i], row->keylens[i])
                          : portail_jw_key(w, row->f[i].name)) != 0 ||
            col_write(w, row->db, &row->f[i], &row->c[i]) != 0)
            return -1;
    }
    return 0;
}

int portail_dbrow_object(portail_jw_t *w, portail_dbrow_t *row, const char *const *skip)
{
    if (portail_jw_open(w, '{') != 0 || portail_dbrow_fields(w, row, skip) != 0)
        return -1;
    return portail_jw_close(w, '}');
}

static json_t *query(portail_db_t *db, const char *sql, bool one, const char *fmt, va_list ap)
{
    MYSQL_STMT *st = run(db, sql, fmt, ap);
    if (!st)
        return NULL;
    json_t *out = fetch(db, st, sql, one);
    dbi_done(db, st);
    return out;
}

json_t *portail_db_rows(portail_db_t *db, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *rows = query(db, sql, false, fmt, ap);
    va_end(ap);
    return rows;
}

json_t *portail_db_row(portail_db_t *db, const char *sql, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *row = query(db, sql, true, fmt, ap);
    va_end(ap);
    return row;
}

/* The first column of the first row, read straight into the arena: no
 * store_result copy and no hex through JSON. The row arrives in the
 * client's network buffer once; libmariadb copies it into our buffer of the
 * exact size, told by a first fetch with an empty buffer. */
static const unsigned char *blob_v(portail_db_t *db, size_t *len, const char *sql, const char *fmt,
                                   va_list ap)
{
    *len = 0;
    MYSQL_STMT *st = run(db, sql, fmt, ap);
    if (!st)
        return NULL;
    unsigned char *out = NULL;
    unsigned long n = 0;
    my_bool is_null = 0, error = 0;
    MYSQL_BIND b;
    memset(&b, 0, sizeof b);
    b.buffer_type = MYSQL_TYPE_BLOB;
    b.length = &n;
    b.is_null = &is_null;
    b.error = &error;
    if (mysql_stmt_field_count(st) < 1 || mysql_stmt_bind_result(st, &b) != 0) {
        fail_stmt(db, st, "bind result", sql);
        goto done;
    }
    int rc = mysql_stmt_fetch(st);
    if (rc == MYSQL_NO_DATA)
        goto done;
    if (rc == 1) {
        fail_stmt(db, st, "fetch", sql);
        goto done;
    }
    if (is_null)
        goto drain;
    /* One spare byte so that an empty value is a valid pointer. */
    out = portail_alloc(db->arena, (size_t)n + 1);
    if (n > 0) {
        MYSQL_BIND c;
        unsigned long got = 0;
        memset(&c, 0, sizeof c);
        c.buffer_type = MYSQL_TYPE_BLOB;
        c.buffer = out;
        c.buffer_length = n;
        c.length = &got;
        if (mysql_stmt_fetch_column(st, &c, 0, 0) != 0 || got != n) {
            fail_stmt(db, st, "fetch column", sql);
            out = NULL;
            goto done;
        }
    }
    *len = (size_t)n;
drain:
    /* The connection is usable again only once every row is read. */
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED)
        ;
done:
    dbi_done(db, st);
    return out;
}

const unsigned char *portail_db_blob(portail_db_t *db, size_t *len, const char *sql,
                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const unsigned char *out = blob_v(db, len, sql, fmt, ap);
    va_end(ap);
    return out;
}

/* ---- queries scoped to the signed-in member ------------------------------ */

#define MEMBER_MARK "{member}"

/* The connection with sql rewritten ({member} -> ?) and 'M' inserted in
 * the format where each mark stands; NULL with a 500 set when the request
 * has no member or sql no mark. */
static portail_db_t *scoped(portail_ctx_t *ctx, const char **sql, const char **fmt)
{
    const char *who = ctx->module ? ctx->module->desc->name : "core";
    const portail_principal_t *p = &ctx->principal;
    if (p->kind != PORTAIL_PRINCIPAL_MEMBER || p->level != PORTAIL_AUTH_MEMBER || p->id <= 0) {
        portail_log_error(ctx, "module %s: member-scoped query outside a member session", who);
        portail_problem(ctx, 500, NULL, NULL);
        return NULL;
    }
    if (!*sql || !strstr(*sql, MEMBER_MARK)) {
        portail_log_error(ctx, "module %s: member-scoped query without %s: %.200s", who,
                          MEMBER_MARK, *sql ? *sql : "(null)");
        portail_problem(ctx, 500, NULL, NULL);
        return NULL;
    }
    const char *f = *fmt ? *fmt : "";
    size_t slen = strlen(*sql), flen = strlen(f);
    char *out = portail_alloc(ctx->arena, slen + 1);
    char *nf = portail_alloc(ctx->arena, flen + slen / (sizeof(MEMBER_MARK) - 1) + 1);
    size_t o = 0, fi = 0, nfi = 0;
    /* Runs without a mark or a placeholder are copied whole: this runs on
     * every member-scoped query, whose text is often a few hundred bytes. */
    for (const char *s = *sql; *s;) {
        const char *stop = strpbrk(s, "?{");
        size_t plain = stop ? (size_t)(stop - s) : strlen(s);
        memcpy(out + o, s, plain);
        o += plain;
        s += plain;
        if (!*s)
            break;
        if (strncmp(s, MEMBER_MARK, sizeof(MEMBER_MARK) - 1) == 0) {
            out[o++] = '?';
            nf[nfi++] = 'M';
            s += sizeof(MEMBER_MARK) - 1;
            continue;
        }
        if (*s == '?' && fi < flen)
            nf[nfi++] = f[fi++];
        out[o++] = *s++;
    }
    out[o] = '\0';
    while (fi < flen)
        nf[nfi++] = f[fi++];
    nf[nfi] = '\0';
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return NULL;
    db->scope_member = (long long)p->id;
    *sql = out;
    *fmt = nf;
    return db;
}

json_t *portail_member_row(portail_ctx_t *ctx, const char *sql, const char *fmt, ...)
{
    portail_db_t *db = scoped(ctx, &sql, &fmt);
    if (!db)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    json_t *row = query(db, sql, true, fmt, ap);
    va_end(ap);
    db->scope_member = 0;
    return row;
}

json_t *portail_member_rows(portail_ctx_t *ctx, const char *sql, const char *fmt, ...)
{
    portail_db_t *db = scoped(ctx, &sql, &fmt);
    if (!db)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    json_t *rows = query(db, sql, false, fmt, ap);
    va_end(ap);
    db->scope_member = 0;
    return rows;
}

long long portail_member_rows_json(portail_ctx_t *ctx, portail_jw_t *w, portail_row_fn fn,
                                   void *arg, const char *sql, const char *fmt, ...)
{
    portail_db_t *db = scoped(ctx, &sql, &fmt);
    if (!db)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    MYSQL_STMT *st = run(db, sql, fmt, ap);
    va_end(ap);
    long long n = st ? rows_json(db, w, fn, arg, sql, st) : -1;
    if (st)
        dbi_done(db, st);
    db->scope_member = 0;
    return n;
}

long long portail_member_exec(portail_ctx_t *ctx, const char *sql, const char *fmt, ...)
{
    portail_db_t *db = scoped(ctx, &sql, &fmt);
    if (!db)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    long long n = exec_v(db, sql, fmt, ap);
    va_end(ap);
    db->scope_member = 0;
    return n;
}

/* ---- typed reads -------------------------------------------------------- */

long long portail_row_int(const json_t *row, const char *key, long long def)
{
    const json_t *v = json_object_get(row, key);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

const char *portail_row_str(const json_t *row, const char *key)
{
    const json_t *v = json_object_get(row, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

unsigned char *portail_row_blob(portail_arena_t *a, const json_t *row, const char *key, size_t *len)
{
    const json_t *v = json_object_get(row, key);
    if (!json_is_string(v))
        return NULL;
    size_t hlen = json_string_length(v);
    if (hlen % 2 != 0)
        return NULL;
    /* One spare byte so that an empty value is a valid pointer. */
    unsigned char *out = portail_alloc(a, hlen / 2 + 1);
    size_t n = 0;
    const char *end = NULL;
    if (sodium_hex2bin(out, hlen / 2 + 1, json_string_value(v), hlen, NULL, &n, &end) != 0 ||
        n * 2 != hlen)
        return NULL;
    if (len)
        *len = n;
    return out;
}
