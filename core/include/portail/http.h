/* What a handler sees of its request and how it answers. Everything returned
 * lives in the request arena and dies with the request. */
#ifndef PORTAIL_HTTP_H
#define PORTAIL_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "portail/arena.h"
#include "portail/module.h"

typedef enum portail_principal_kind {
    PORTAIL_PRINCIPAL_NONE = 0,
    PORTAIL_PRINCIPAL_MEMBER,
    PORTAIL_PRINCIPAL_AGENT,
} portail_principal_kind_t;

typedef struct portail_principal {
    portail_principal_kind_t kind;
    int64_t id;           /* members.id or agents.id */
    portail_auth_t level; /* PARTIAL, MEMBER or AGENT */
    int64_t session_id;   /* sessions.id, 0 when none */
    const char *role;     /* agents: "agent" or "supervisor"; NULL otherwise */
} portail_principal_t;

typedef struct portail_client {
    const char *ip;         /* REMOTE_ADDR as nginx resolved it */
    const char *country;    /* ISO 3166 alpha-2 from nginx geoip, "" when unknown */
    const char *user_agent; /* truncated to 512 bytes */
} portail_client_t;

typedef struct portail_part {
    const char *name;
    const char *filename;     /* NULL for a plain field */
    const char *content_type; /* "text/plain" when the part gives none */
    const unsigned char *data;
    size_t len;
} portail_part_t;

/* Request */
const char *portail_req_method(const portail_ctx_t *ctx); /* "GET", ... (HEAD reported as HEAD) */
const char *portail_req_path(const portail_ctx_t *ctx);   /* decoded path, no query */
const char *portail_req_id(const portail_ctx_t *ctx);
const char *portail_req_param(const portail_ctx_t *ctx,
                              const char *name); /* {name} in the pattern */
/* {name} as a positive decimal int64 (digits only, no sign, no leading zero,
 * no overflow): 0, or -1 with a 404 problem set, because a malformed id
 * names no object rather than being a bad request. */
int portail_req_param_i64(portail_ctx_t *ctx, const char *name, int64_t *out);
const char *portail_req_query(const portail_ctx_t *ctx,
                              const char *name); /* decoded, first value */
/* ?name= as a decimal integer in [min, max]: dflt when absent or empty;
 * otherwise a field error « Nombre entre MIN et MAX. » added to *errors
 * (and dflt returned) when it is not one. Lists' ?limit= (one wording and
 * one bound check for every module). */
long long portail_req_query_int(portail_ctx_t *ctx, const char *name, long long min, long long max,
                                long long dflt, json_t **errors);
const char *portail_req_header(const portail_ctx_t *ctx, const char *name); /* case-insensitive */
const char *portail_req_cookie(const portail_ctx_t *ctx, const char *name);
const unsigned char *portail_req_body(const portail_ctx_t *ctx, size_t *len);
json_t *portail_req_json(const portail_ctx_t *ctx); /* borrowed; NULL if none */
const char *portail_req_form(const portail_ctx_t *ctx,
                             const char *name); /* urlencoded or multipart field */
const portail_part_t *portail_req_parts(const portail_ctx_t *ctx, size_t *count);

const portail_principal_t *portail_principal(const portail_ctx_t *ctx);
/* Nonzero when the request's agent (second factor done) holds permission
 * through its role (config `roles`, or the defaults of module.h). */
int portail_permitted(const portail_ctx_t *ctx, const char *permission);
const portail_client_t *portail_client(const portail_ctx_t *ctx);
portail_arena_t *portail_arena(portail_ctx_t *ctx);
void *portail_module_state(const portail_ctx_t *ctx);
const char *portail_module_name(const portail_ctx_t *ctx);
/* server.origin ("https://portail.example", no trailing slash): the base of
 * the links sent by mail. */
const char *portail_origin(const portail_ctx_t *ctx);

/* Response. The last call wins for status and body; headers accumulate. */
/* Nonzero once a response (or a problem, e.g. the 503 of portail_db) is set. */
int portail_responded(const portail_ctx_t *ctx);
void portail_set_header(portail_ctx_t *ctx, const char *name, const char *value);
/* Steals the reference to body. */
void portail_respond_json(portail_ctx_t *ctx, int status, json_t *body);
void portail_respond_empty(portail_ctx_t *ctx, int status);
/* A JSON answer written as it goes, for list pages: rows go straight from
 * the database into its bytes (portail_db_rows_json, db.h) instead of a
 * jansson object each. The text is what portail_respond_json gives for a
 * value of the same members in the same order (escapes, UTF-8 check,
 * integers, reals). Commas are placed by the writer. Each call returns 0,
 * or -1 once anything failed (invalid UTF-8, a bad bracket, memory): the
 * failure sticks, and portail_respond_jw then answers 500, so a handler
 * may check only at the end. The buffer is freed with the arena. */
typedef struct portail_jw portail_jw_t;
portail_jw_t *portail_jw_new(portail_arena_t *a);
int portail_jw_open(portail_jw_t *w, char bracket);  /* '{' or '[' */
int portail_jw_close(portail_jw_t *w, char bracket); /* '}' or ']' */
int portail_jw_key(portail_jw_t *w, const char *key);
int portail_jw_str(portail_jw_t *w, const char *s); /* NULL writes null */
int portail_jw_strn(portail_jw_t *w, const char *s, size_t len);
int portail_jw_int(portail_jw_t *w, long long v);
int portail_jw_bool(portail_jw_t *w, int v);
int portail_jw_null(portail_jw_t *w);
/* A jansson value as portail_respond_json writes it (borrowed). */
int portail_jw_json(portail_jw_t *w, const json_t *v);
int portail_jw_failed(const portail_jw_t *w);
/* Answers the writer's text; a 500 when it failed. */
void portail_respond_jw(portail_ctx_t *ctx, int status, portail_jw_t *w);
/* Decimal digits of v at the end of buf[24], without snprintf (a list's
 * paths and cursors); returns where they start, *len their count. */
char *portail_fmt_ll(char buf[24], long long v, size_t *len);
/* A file: Content-Disposition: attachment; filename=... (ASCII-safe copy). */
void portail_respond_file(portail_ctx_t *ctx, int status, const char *content_type,
                          const void *data, size_t len, const char *filename);
/* Binary answers. The type comes from this fixed list only, never from a
 * string of the client or the database (which could carry a CR/LF). */
typedef enum portail_file_type {
    PORTAIL_FILE_PDF = 1,
    PORTAIL_FILE_JPEG,
    PORTAIL_FILE_PNG,
    PORTAIL_FILE_ICS,
    PORTAIL_FILE_JSON,
    PORTAIL_FILE_CSV,
    PORTAIL_FILE_TEXT,
} portail_file_type_t;

typedef enum portail_disposition {
    PORTAIL_ATTACHMENT = 0,
    PORTAIL_INLINE = 1,
} portail_disposition_t;

/* "application/pdf", ...; NULL for a value outside the enum. */
const char *portail_file_type_mime(portail_file_type_t type);
/* Answers len bytes that the handler lends: data is NOT copied and must
 * outlive the request (arena memory, or memory freed by an arena cleanup).
 * Content-Disposition carries an ASCII filename= fallback and, when the name
 * is not plain ASCII, RFC 6266 filename*=UTF-8''... (path, quotes,
 * backslashes and control characters never reach the header); adds
 * Content-Security-Policy: sandbox (nosniff is on every answer). An
 * unknown type gives a 500. */
void portail_respond_bytes(portail_ctx_t *ctx, int status, portail_file_type_t type,
                           portail_disposition_t disposition, const void *data, size_t len,
                           const char *filename);
/* RFC 9457 problem+json: type is derived from status, request id added. */
void portail_problem(portail_ctx_t *ctx, int status, const char *title, const char *detail);
/* 422 with errors: [{field, message}]; takes the reference to errors. */
void portail_problem_fields(portail_ctx_t *ctx, json_t *errors);
/* Adds one {field, message} to *errors, creating the array on first use. */
void portail_field_error(json_t **errors, const char *field, const char *message);
/* 429 or 503 with Retry-After. */
void portail_problem_retry(portail_ctx_t *ctx, int status, int retry_after_s, const char *title,
                           const char *detail);
/* Adds a member to the last problem body (e.g. "reason" of a 423). */
void portail_problem_extra(portail_ctx_t *ctx, const char *key, json_t *value);

/* Logging, one JSON line carrying the request id. Never log secrets. */
void portail_log_info(portail_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void portail_log_warn(portail_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void portail_log_error(portail_ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Helpers for common input checks. */
/* Bounded integer from the query (def when absent); -1 and a 400 problem when invalid. */
int portail_query_int(portail_ctx_t *ctx, const char *name, long long min, long long max,
                      long long def, long long *out);
/* A string member of the JSON body with a length bound (in bytes); NULL and a
 * field error appended when missing, not a string, or out of bounds. */
const char *portail_json_str(json_t *obj, const char *key, size_t min, size_t max, json_t **errors);

#endif
