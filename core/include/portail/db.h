/* Database access for handlers and core services. Every statement is
 * prepared (and cached per connection); parameters are passed by a format
 * string so that nobody hand-writes MYSQL_BIND arrays:
 *
 *   's' const char *         (NULL binds SQL NULL)
 *   'b' const void *, size_t (binary; NULL binds SQL NULL)
 *   'i' int
 *   'l' long long
 *   'd' double
 *
 * Rows come out as jansson objects, column name -> value: integers as
 * integers, DECIMAL/FLOAT as real, DATETIME/TIMESTAMP as "YYYY-MM-DDTHH:MM:SSZ"
 * (the session time zone is UTC), DATE as "YYYY-MM-DD", binary columns as
 * lowercase hex, NULL as null. Returned values belong to the arena. */
#ifndef PORTAIL_DB_H
#define PORTAIL_DB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "portail/arena.h"

typedef struct portail_ctx portail_ctx_t;
typedef struct portail_db portail_db_t;

/* The request's connection, acquired on first call and released (after a
 * ROLLBACK of anything left open) when the request ends. NULL when the pool
 * is exhausted or the server unreachable: the 503 problem with Retry-After is
 * then already set on ctx, and the handler just returns. */
portail_db_t *portail_db(portail_ctx_t *ctx);

int portail_db_begin(portail_db_t *db);
int portail_db_commit(portail_db_t *db);
int portail_db_rollback(portail_db_t *db);

/* A transaction that may be rerun: fn runs between START TRANSACTION and
 * COMMIT; when fn or the COMMIT fails and a statement of the transaction
 * failed with 1213 (deadlock, or a Galera certification conflict) or 1205
 * (lock wait timeout), even one followed by others that went through,
 * everything is rolled back and fn runs again after a short random pause,
 * at most PORTAIL_DB_TX_ATTEMPTS times in all. fn returns 0 to commit, -1
 * to give up (after a failed portail_db_* call, or for its own reason:
 * then nothing is rerun unless a statement failed with a conflict before).
 * fn must do nothing outside the database that a rerun would repeat (no
 * mail, no response). Returns 0 when committed, -1 otherwise (rolled back;
 * portail_db_errno tells the last error); *attempts (may be NULL) gets how
 * many times fn ran. Called inside an open transaction, fn runs once in it,
 * without BEGIN, COMMIT or rerun: the transaction's owner decides. */
#define PORTAIL_DB_TX_ATTEMPTS 3
typedef int (*portail_db_tx_fn)(portail_db_t *db, void *arg);
int portail_db_tx_retry(portail_db_t *db, portail_db_tx_fn fn, void *arg, int *attempts);

/* portail_db_tx_retry for a handler's transaction that also answers: fn
 * may respond (a 500 after a failed statement, a 401), set cookies, start
 * or raise the session (portail_session_elevate). Before each rerun, and
 * when the COMMIT fails for good, the request's answer, principal and
 * session token are put back as they were before the first run, so that
 * nothing of a rolled-back attempt is sent. Returns 0 when committed; -1
 * otherwise, answered: fn's own answer (its reason, or the last attempt's
 * failed statement), or a 500 (logged) when fn gave none. Outside the
 * database fn may only touch the answer and log: no mail, no file. Inside
 * an open transaction fn runs once. */
typedef int (*portail_tx_fn)(portail_ctx_t *ctx, portail_db_t *db, void *arg);
int portail_tx_retry(portail_ctx_t *ctx, portail_tx_fn fn, void *arg);

/* Affected rows, or -1 on error (logged, see portail_db_errno). */
long long portail_db_exec(portail_db_t *db, const char *sql, const char *fmt, ...);
uint64_t portail_db_insert_id(const portail_db_t *db);
/* Array of row objects; NULL on error. */
json_t *portail_db_rows(portail_db_t *db, const char *sql, const char *fmt, ...);
/* First row, NULL when there is none or on error (portail_db_failed tells). */
json_t *portail_db_row(portail_db_t *db, const char *sql, const char *fmt, ...);
int portail_db_failed(const portail_db_t *db);
/* The first column (a BLOB) of the first row as raw bytes in the arena,
 * length in *len, without hex or JSON: NULL when there is no row, the value
 * is NULL, or on error (portail_db_failed tells). */
const unsigned char *portail_db_blob(portail_db_t *db, size_t *len, const char *sql,
                                     const char *fmt, ...);
/* MariaDB error number of the last failed call (1062: duplicate key), 0 if none. */
unsigned portail_db_errno(const portail_db_t *db);

/* Queries scoped to the signed-in member, so that a module cannot forget
 * the member condition: sql must carry the placeholder {member} (once or
 * more), which is bound to the session's member id, never to a parameter:
 *
 *   portail_member_row(ctx, "SELECT id, text FROM notes WHERE id = ? "
 *                           "AND member_id = {member}", "l", id);
 *
 * Another member's object then simply is not found (404). Without {member}
 * in sql, or outside a member session (second factor done), nothing runs:
 * NULL (or -1) with a 500 set and an error logged naming the module. Other
 * errors: as portail_db_*, on the request's connection (portail_db). */
json_t *portail_member_row(portail_ctx_t *ctx, const char *sql, const char *fmt, ...);
json_t *portail_member_rows(portail_ctx_t *ctx, const char *sql, const char *fmt, ...);
long long portail_member_exec(portail_ctx_t *ctx, const char *sql, const char *fmt, ...);

/* Rows written straight into a JSON answer (portail_jw_t, http.h), for
 * list pages: no jansson object per row. For each row fn is called with the
 * writer and the row (NULL fn: the row is written as the object that
 * portail_db_rows would give). fn writes what the row becomes, or nothing
 * (a page's extra row, asked to know there is a next page); the values are
 * rendered as portail_db_rows renders them. fn returns 0, or -1 to stop
 * (the query then fails). With a NULL writer fn only reads the rows (a
 * row read without a jansson object). The number of rows, or -1 on error (as
 * portail_db_rows; the writer's content is then to be dropped). The
 * brackets around the rows are the caller's:
 *
 *   portail_jw_key(w, "items");
 *   portail_jw_open(w, '[');
 *   portail_member_rows_json(ctx, w, item, &page, "SELECT ...", "l", id);
 *   portail_jw_close(w, ']');
 */
typedef struct portail_jw portail_jw_t;
typedef struct portail_dbrow portail_dbrow_t;
typedef int (*portail_row_fn)(portail_jw_t *w, portail_dbrow_t *row, void *arg);
long long portail_db_rows_json(portail_db_t *db, portail_jw_t *w, portail_row_fn fn, void *arg,
                               const char *sql, const char *fmt, ...);
long long portail_member_rows_json(portail_ctx_t *ctx, portail_jw_t *w, portail_row_fn fn,
                                   void *arg, const char *sql, const char *fmt, ...);
/* The current row, for fn. Columns are named as in the SQL (AS ...); the
 * name is best a string literal (remembered by its address). */
size_t portail_dbrow_index(const portail_dbrow_t *row);        /* 0 for the first */
int portail_dbrow_null(portail_dbrow_t *row, const char *col); /* also when absent */
long long portail_dbrow_int(portail_dbrow_t *row, const char *col, long long def);
/* A text column, or a DATETIME/DATE as its JSON text; NULL when null or
 * absent. Valid until the next row. */
const char *portail_dbrow_str(portail_dbrow_t *row, const char *col);
/* "key":value of column col (a missing column fails the writer). */
int portail_dbrow_field(portail_jw_t *w, portail_dbrow_t *row, const char *key, const char *col);
/* "name":value of every column in order, except those named in skip (a
 * NULL-terminated list, or NULL); the same list for every row of a result. */
int portail_dbrow_fields(portail_jw_t *w, portail_dbrow_t *row, const char *const *skip);
/* {portail_dbrow_fields} */
int portail_dbrow_object(portail_jw_t *w, portail_dbrow_t *row, const char *const *skip);

/* Typed reads of a row object. */
long long portail_row_int(const json_t *row, const char *key, long long def);
const char *portail_row_str(const json_t *row, const char *key); /* NULL when absent or null */
/* Decodes a hex (binary column) value into the arena; NULL on bad input. */
unsigned char *portail_row_blob(portail_arena_t *a, const json_t *row, const char *key,
                                size_t *len);

#endif
