/* MariaDB connection pool: fixed slots, connections opened lazily, a
 * prepared-statement cache per connection.
 *
 * MYSQL_OPT_RECONNECT stays off: a silent reconnect loses the session settings,
 * the prepared statements and any open transaction while the caller goes on
 * as if nothing happened. A lost connection is instead marked broken, closed
 * at release and reopened at the next acquire, where it is also checked. */
#include <errno.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* A connection idle longer than this is pinged before use: the server may
 * have been restarted or may have dropped it (wait_timeout). */
#define IDLE_PING_S 5
#define RW_TIMEOUT_S 30
#define DEFAULT_CONNECT_TIMEOUT_S 5

/* One round trip for both settings. UTC because every time leaves the API as
 * UTC; strict so that a bad value is an error, not a silent truncation. */
static const char session_sql[] =
    "SET time_zone = '+00:00', SESSION sql_mode = "
    "'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION'";

struct portail_pool {
    portail_pool_conf_t conf; /* strings owned (copied) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    portail_db_t *slots;
    portail_db_t **stack; /* free slots: the most recently released is reused first */
    unsigned nfree;
    /* For GET /metrics, under mu like nfree. */
    unsigned waiting;
    unsigned long long waits, wait_us, exhausted;
};

static const char *rid(const portail_db_t *db)
{
    return db->request_id[0] ? db->request_id : NULL;
}

static char *dup_opt(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

static void free_conf_strings(portail_pool_conf_t *c)
{
    free((char *)c->socket);
    free((char *)c->host);
    free((char *)c->user);
    if (c->password) {
        explicit_bzero((char *)c->password, strlen(c->password));
        free((char *)c->password);
    }
    free((char *)c->database);
}

portail_pool_t *portail_pool_new(const portail_pool_conf_t *conf)
{
    if (!conf || conf->size == 0) {
        portail_logf("error", NULL, "db pool: size must be at least 1");
        return NULL;
    }
    portail_pool_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    bool ok = true;
    p->conf = *conf;
    p->conf.socket = dup_opt(conf->socket, &ok);
    p->conf.host = dup_opt(conf->host, &ok);
    p->conf.user = dup_opt(conf->user, &ok);
    p->conf.password = dup_opt(conf->password, &ok);
    p->conf.database = dup_opt(conf->database, &ok);
    p->slots = calloc(conf->size, sizeof *p->slots);
    p->stack = calloc(conf->size, sizeof *p->stack);
    if (!ok || !p->slots || !p->stack)
        goto fail_alloc;
    for (unsigned i = 0; i < conf->size; i++) {
        portail_db_t *db = &p->slots[i];
        db->pool = p;
        if (conf->stmt_cache) {
            db->stmts = calloc(conf->stmt_cache, sizeof *db->stmts);
            if (!db->stmts)
                goto fail_alloc;
        }
        /* Reverse order so that slot 0 is used first. */
        p->stack[conf->size - 1 - i] = db;
    }
    p->nfree = conf->size;

    if (portail_cond_init_monotonic(&p->cv) != 0)
        goto fail_alloc;
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        pthread_cond_destroy(&p->cv);
        goto fail_alloc;
    }
    return p;

fail_alloc:
    if (p->slots)
        for (unsigned i = 0; i < conf->size; i++)
            free(p->slots[i].stmts);
    free(p->slots);
    free(p->stack);
    free_conf_strings(&p->conf);
    free(p);
    return NULL;
}

static void close_conn(portail_db_t *db)
{
    for (unsigned i = 0; i < db->nstmts; i++) {
        mysql_stmt_close(db->stmts[i].stmt);
        free(db->stmts[i].sql);
    }
    db->nstmts = 0;
    if (db->mysql)
        mysql_close(db->mysql);
    db->mysql = NULL;
    db->broken = false;
    db->in_tx = false;
}

void portail_pool_free(portail_pool_t *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->conf.size; i++) {
        close_conn(&p->slots[i]);
        free(p->slots[i].stmts);
    }
    free(p->slots);
    free(p->stack);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free_conf_strings(&p->conf);
    free(p);
}

static int slot_connect(portail_db_t *db)
{
    const portail_pool_conf_t *c = &db->pool->conf;
    MYSQL *m = mysql_init(NULL);
    if (!m) {
        portail_logf("error", rid(db), "db connect: mysql_init failed");
        return -1;
    }
    unsigned connect_s = c->connect_timeout_s ? c->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S;
    unsigned rw_s = RW_TIMEOUT_S;
    my_bool off = 0;
    int opt = mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    opt |= mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rw_s);
    opt |= mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rw_s);
    opt |= mysql_options(m, MYSQL_OPT_RECONNECT, &off);
    opt |= mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    const char *host = c->host;
    const char *sock = NULL;
    unsigned port = c->port;
    if (c->socket && c->socket[0]) {
        unsigned proto = MYSQL_PROTOCOL_SOCKET;
        opt |= mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
        host = "localhost";
        sock = c->socket;
        port = 0;
    }
    if (opt != 0) {
        portail_logf("error", rid(db), "db connect: mysql_options failed");
        mysql_close(m);
        return -1;
    }
    if (!mysql_real_connect(m, host, c->user, c->password, c->database, port, sock, 0)) {
        portail_logf("error", rid(db), "db connect failed: %u %s", mysql_errno(m), mysql_error(m));
        mysql_close(m);
        return -1;
    }
    if (mysql_real_query(m, session_sql, sizeof session_sql - 1) != 0) {
        portail_logf("error", rid(db), "db session setup failed: %u %s", mysql_errno(m),
                     mysql_error(m));
        mysql_close(m);
        return -1;
    }
    /* On a Galera cluster a read may reach a node that has not applied a
     * write made through another one yet (a session right after sign-in on
     * the other portaild): every read waits for the node to catch up. */
    static const char sync_sql[] = "SET SESSION wsrep_sync_wait = 1";
    if (c->galera && mysql_real_query(m, sync_sql, sizeof sync_sql - 1) != 0) {
        portail_logf("error", rid(db), "db galera setup failed: %u %s", mysql_errno(m),
                     mysql_error(m));
        mysql_close(m);
        return -1;
    }
    db->mysql = m;
    db->broken = false;
    db->nstmts = 0;
    return 0;
}

static double idle_seconds(const portail_db_t *db)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - db->last_used.tv_sec) +
           (double)(now.tv_nsec - db->last_used.tv_nsec) / 1e9;
}

/* Between requests the server has nothing to say: a readable socket means it
 * closed the connection (restart, kill, wait_timeout). A poll costs far less
 * than a ping and catches a restart however short the idle time was. */
static bool socket_closed(MYSQL *m)
{
    my_socket fd = mysql_get_socket(m);
    if (fd == MARIADB_INVALID_SOCKET)
        return true;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    return poll(&pfd, 1, 0) != 0;
}

/* Makes db usable: reopens a broken or never-opened connection and checks an
 * idle one. 0, or -1 when the server cannot be reached. */
static int slot_ready(portail_db_t *db)
{
    if (db->mysql && !db->broken) {
        bool dead;
        if (idle_seconds(db) > IDLE_PING_S)
            dead = mysql_ping(db->mysql) != 0;
        else
            dead = socket_closed(db->mysql);
        if (dead) {
            portail_logf("warn", rid(db), "db connection found closed, reconnecting");
            db->broken = true;
        }
    }
    if (db->mysql && db->broken)
        close_conn(db);
    if (!db->mysql)
        return slot_connect(db);
    return 0;
}

static void push_free(portail_pool_t *p, portail_db_t *db)
{
    pthread_mutex_lock(&p->mu);
    p->stack[p->nfree++] = db;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void portail_pool_stats(portail_pool_t *p, portail_pool_stats_t *st)
{
    pthread_mutex_lock(&p->mu);
    st->size = p->conf.size;
    st->in_use = p->conf.size - p->nfree;
    st->waiting = p->waiting;
    st->waits = p->waits;
    st->wait_us = p->wait_us;
    st->exhausted = p->exhausted;
    pthread_mutex_unlock(&p->mu);
}

portail_db_t *portail_pool_acquire(portail_pool_t *p, portail_arena_t *arena,
                                   const char *request_id, unsigned timeout_ms, int *why)
{
    int why_local;
    if (!why)
        why = &why_local;
    /* A no-op after the first call in a thread with Connector/C 3.x, and
     * required before a thread's first use with older clients. */
    mysql_thread_init();

    struct timespec deadline;
    portail_deadline_in(&deadline, (long)timeout_ms);

    pthread_mutex_lock(&p->mu);
    struct timespec wait0 = {0, 0};
    if (p->nfree == 0) {
        clock_gettime(CLOCK_MONOTONIC, &wait0);
        p->waits++;
        p->waiting++;
    }
    while (p->nfree == 0) {
        int rc = pthread_cond_timedwait(&p->cv, &p->mu, &deadline);
        if (rc == ETIMEDOUT && p->nfree == 0) {
            p->waiting--;
            p->exhausted++;
            p->wait_us += portail_us_since(&wait0);
            pthread_mutex_unlock(&p->mu);
            portail_logf("warn", request_id, "db pool exhausted after %u ms", timeout_ms);
            *why = PORTAIL_POOL_EXHAUSTED;
            return NULL;
        }
    }
    if (wait0.tv_sec || wait0.tv_nsec) {
        p->waiting--;
        p->wait_us += portail_us_since(&wait0);
    }
    portail_db_t *db = p->stack[--p->nfree];
    pthread_mutex_unlock(&p->mu);

    db->arena = arena;
    /* A bounded copy, as snprintf "%s" made it, without its format parsing. */
    const char *rq = request_id ? request_id : "";
    size_t rn = strnlen(rq, sizeof db->request_id - 1);
    memcpy(db->request_id, rq, rn);
    db->request_id[rn] = '\0';
    db->failed = false;
    db->err = 0;
    db->insert_id = 0;
    db->in_tx = false;
    /* Connecting happens outside the lock: it can take connect_timeout. */
    if (slot_ready(db) != 0) {
        db->arena = NULL;
        db->request_id[0] = '\0';
        clock_gettime(CLOCK_MONOTONIC, &db->last_used);
        push_free(p, db);
        *why = PORTAIL_POOL_UNREACHABLE;
        return NULL;
    }
    *why = PORTAIL_POOL_OK;
    return db;
}

void portail_pool_release(portail_db_t *db)
{
    if (!db)
        return;
    if (db->mysql && !db->broken &&
        (db->in_tx || (db->mysql->server_status & SERVER_STATUS_IN_TRANS))) {
        if (mysql_real_query(db->mysql, "ROLLBACK", 8) != 0) {
            portail_logf("error", rid(db), "db rollback at release failed: %u %s",
                         mysql_errno(db->mysql), mysql_error(db->mysql));
            /* Whatever state the session is in, it must not reach the next
             * request. */
            db->broken = true;
        }
    }
    if (db->broken)
        close_conn(db);
    db->in_tx = false;
    db->arena = NULL;
    db->request_id[0] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &db->last_used);
    push_free(db->pool, db);
}

bool dbi_conn_lost(unsigned err)
{
    switch (err) {
    case CR_CONNECTION_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    /* The protocol state is unknown after this one: start afresh. */
    case CR_COMMANDS_OUT_OF_SYNC:
    case CR_ERR_NET_READ:
    case CR_ERR_NET_WRITE:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
        return true;
    default:
        return false;
    }
}

void dbi_fail(portail_db_t *db, unsigned err, const char *msg, const char *what, const char *sql)
{
    db->failed = true;
    db->err = err;
    if (db->in_tx && !db->tx_conflict && dbi_tx_retryable(err))
        db->tx_conflict = err;
    if (dbi_conn_lost(err))
        db->broken = true;
    /* A duplicate key is often the expected answer (already registered). */
    const char *level = err == ER_DUP_ENTRY ? "warn" : "error";
    if (sql)
        portail_logf(level, rid(db), "db %s failed: %u %s; sql: %.300s", what, err, msg ? msg : "",
                     sql);
    else
        portail_logf(level, rid(db), "db %s failed: %u %s", what, err, msg ? msg : "");
}

static uint64_t hash_sql(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

MYSQL_STMT *dbi_prepare(portail_db_t *db, const char *sql)
{
    if (!db->mysql || db->broken) {
        /* No reconnect inside a request: an open transaction would be lost
         * without the caller knowing. */
        dbi_fail(db, CR_SERVER_GONE_ERROR, "connection lost earlier in this request", "prepare",
                 sql);
        return NULL;
    }
    if (db->in_tx && db->tx_conflict) {
        /* After a 1213 the server has rolled the transaction back: a later
         * statement would run on its own, autocommitted (a mail queued for
         * a password change that was lost). Refused until the rollback. */
        dbi_fail(db, db->tx_conflict, "transaction aborted earlier in this request", "prepare",
                 sql);
        return NULL;
    }
    unsigned cap = db->pool->conf.stmt_cache;
    /* Same pointer as last time: the text is still compared (an arena's
     * address comes back with another text), but strcmp runs at memory
     * speed where FNV-1a costs a multiply per byte, and the SQL of a route
     * is often several hundred bytes. */
    for (unsigned i = 0; i < db->nstmts; i++) {
        dbi_stmt_slot_t *s = &db->stmts[i];
        if (s->seen == sql && strcmp(s->sql, sql) == 0) {
            s->last_use = ++db->tick;
            return s->stmt;
        }
    }
    uint64_t h = hash_sql(sql);
    for (unsigned i = 0; i < db->nstmts; i++) {
        dbi_stmt_slot_t *s = &db->stmts[i];
        if (s->hash == h && strcmp(s->sql, sql) == 0) {
            s->seen = sql;
            s->last_use = ++db->tick;
            return s->stmt;
        }
    }

    MYSQL_STMT *st = mysql_stmt_init(db->mysql);
    if (!st) {
        dbi_fail(db, CR_OUT_OF_MEMORY, "mysql_stmt_init failed", "prepare", sql);
        return NULL;
    }
    /* So that mysql_stmt_store_result sizes string columns for us. */
    my_bool on = 1;
    mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on);
    if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
        /* Prepare errors quote the SQL text only, never a parameter. */
        dbi_fail(db, mysql_stmt_errno(st), mysql_stmt_error(st), "prepare", sql);
        mysql_stmt_close(st);
        return NULL;
    }
    if (cap == 0)
        return st;

    char *copy = strdup(sql);
    if (!copy) {
        dbi_fail(db, CR_OUT_OF_MEMORY, "out of memory", "prepare", sql);
        mysql_stmt_close(st);
        return NULL;
    }
    dbi_stmt_slot_t *slot;
    if (db->nstmts < cap) {
        slot = &db->stmts[db->nstmts++];
    } else {
        slot = &db->stmts[0];
        for (unsigned i = 1; i < db->nstmts; i++)
            if (db->stmts[i].last_use < slot->last_use)
                slot = &db->stmts[i];
        mysql_stmt_close(slot->stmt);
        free(slot->sql);
    }
    slot->sql = copy;
    slot->seen = sql;
    slot->hash = h;
    slot->stmt = st;
    slot->last_use = ++db->tick;
    return st;
}

void dbi_done(portail_db_t *db, MYSQL_STMT *stmt)
{
    if (!stmt)
        return;
    if (!db->broken) {
        mysql_stmt_free_result(stmt);
        /* A CALL leaves more results behind; the next execute would fail
         * with "commands out of sync" if they were not drained. */
        while (mysql_stmt_more_results(stmt)) {
            if (mysql_stmt_next_result(stmt) != 0) {
                if (dbi_conn_lost(mysql_stmt_errno(stmt)))
                    db->broken = true;
                break;
            }
            mysql_stmt_free_result(stmt);
        }
    }
    if (db->pool->conf.stmt_cache == 0) {
        mysql_stmt_close(stmt);
        return;
    }
    /* A statement that failed is not kept: after an error in the middle of
     * its result (a deadlock reported while the rows of a SELECT ... FOR
     * UPDATE were being sent), executing the cached handle again waited
     * for the rest of that result until the read timeout, with the
     * connection's transaction and its locks still open. */
    if (db->failed) {
        for (unsigned i = 0; i < db->nstmts; i++) {
            if (db->stmts[i].stmt == stmt) {
                free(db->stmts[i].sql);
                db->stmts[i] = db->stmts[--db->nstmts];
                break;
            }
        }
        mysql_stmt_close(stmt);
    }
}

int portail_db_run_script(portail_db_t *db, const char *sql, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    db->failed = false;
    db->err = 0;
    if (!db->mysql || db->broken) {
        db->failed = true;
        db->err = CR_SERVER_GONE_ERROR;
        if (err && errlen)
            snprintf(err, errlen, "connection lost");
        return -1;
    }
    MYSQL *m = db->mysql;
    int rc = 0;
    if (mysql_set_server_option(m, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0)
        goto fail;
    if (mysql_real_query(m, sql, (unsigned long)strlen(sql)) != 0) {
        rc = -1;
    } else {
        for (;;) {
            MYSQL_RES *res = mysql_store_result(m);
            if (res) {
                mysql_free_result(res);
            } else if (mysql_field_count(m) != 0) {
                rc = -1;
                break;
            }
            int next = mysql_next_result(m);
            if (next > 0) {
                rc = -1;
                break;
            }
            if (next < 0)
                break;
        }
    }
    if (rc != 0) {
        db->failed = true;
        db->err = mysql_errno(m);
        if (err && errlen)
            snprintf(err, errlen, "%u: %s", mysql_errno(m), mysql_error(m));
        if (dbi_conn_lost(db->err)) {
            db->broken = true;
            return -1;
        }
    }
    /* Left on, one injected "; DROP ..." in any later text query would run. */
    if (mysql_set_server_option(m, MYSQL_OPTION_MULTI_STATEMENTS_OFF) != 0) {
        portail_logf("error", rid(db), "db: cannot turn multi-statements off: %u %s",
                     mysql_errno(m), mysql_error(m));
        db->broken = true;
        if (rc == 0) {
            db->failed = true;
            db->err = mysql_errno(m);
            if (err && errlen)
                snprintf(err, errlen, "%u: %s", mysql_errno(m), mysql_error(m));
        }
        return -1;
    }
    return rc;

fail:
    db->failed = true;
    db->err = mysql_errno(m);
    if (dbi_conn_lost(db->err))
        db->broken = true;
    if (err && errlen)
        snprintf(err, errlen, "%u: %s", mysql_errno(m), mysql_error(m));
    return -1;
}
