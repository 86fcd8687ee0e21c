/* The handler-facing API: request accessors and response builders. Every
 * string handed out lives in the request arena. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "portail/texts.h"

const char *portail_req_method(const portail_ctx_t *ctx)
{
    return ctx->method;
}

const char *portail_req_path(const portail_ctx_t *ctx)
{
    return ctx->path;
}

const char *portail_req_id(const portail_ctx_t *ctx)
{
    return ctx->request_id;
}

const char *portail_req_param(const portail_ctx_t *ctx, const char *name)
{
    return portail_kv_get(ctx->params, ctx->nparams, name, 0);
}

int portail_req_param_i64(portail_ctx_t *ctx, const char *name, int64_t *out)
{
    const char *s = portail_req_param(ctx, name);
    size_t n = s ? strlen(s) : 0;
    int ok = n >= 1 && n <= 19 && s[0] >= '1' && s[0] <= '9';
    uint64_t v = 0;
    for (size_t i = 0; ok && i < n; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot wrap 64 bits */
    }
    if (!ok || v > (uint64_t)INT64_MAX) {
        portail_problem(ctx, 404, NULL, TXT_HTTP_AUCUNE_RESSOURCE_CORRESPOND_ADRESSE);
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

const char *portail_req_query(const portail_ctx_t *ctx, const char *name)
{
    return portail_kv_get(ctx->query, ctx->nquery, name, 0);
}

/* ?name= as a decimal in [min, max]: 1 absent or empty, 0 *out set, -1 not
 * one. The two answers below (a field error, a 400) share this reading. */
static int query_ll(const portail_ctx_t *ctx, const char *name, long long min, long long max,
                    long long *out)
{
    const char *s = portail_req_query(ctx, name);
    if (!s || !*s)
        return 1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

long long portail_req_query_int(portail_ctx_t *ctx, const char *name, long long min, long long max,
                                long long dflt, json_t **errors)
{
    long long v = dflt;
    if (query_ll(ctx, name, min, max, &v) < 0) {
        portail_field_error(errors, name,
                            portail_sprintf(ctx->arena, TXT_HTTP_NOMBRE_ENTRE, min, max));
        return dflt;
    }
    return v;
}

const char *portail_req_header(const portail_ctx_t *ctx, const char *name)
{
    return portail_kv_get(ctx->headers, ctx->nheaders, name, 1);
}

const char *portail_req_cookie(const portail_ctx_t *ctx, const char *name)
{
    return portail_kv_get(ctx->cookies, ctx->ncookies, name, 0);
}

const unsigned char *portail_req_body(const portail_ctx_t *ctx, size_t *len)
{
    if (len)
        *len = ctx->body_len;
    return ctx->body;
}

json_t *portail_req_json(const portail_ctx_t *ctx)
{
    return ctx->json;
}

const char *portail_req_form(const portail_ctx_t *ctx, const char *name)
{
    const char *v = portail_kv_get(ctx->form, ctx->nform, name, 0);
    if (v)
        return v;
    for (size_t i = 0; i < ctx->nparts; i++) {
        const portail_part_t *p = &ctx->parts[i];
        if (!p->filename && strcmp(p->name, name) == 0 && !memchr(p->data, '\0', p->len))
            return portail_strndup(((portail_ctx_t *)ctx)->arena, (const char *)p->data, p->len);
    }
    return NULL;
}

const portail_part_t *portail_req_parts(const portail_ctx_t *ctx, size_t *count)
{
    *count = ctx->nparts;
    return ctx->parts;
}

const portail_principal_t *portail_principal(const portail_ctx_t *ctx)
{
    return &ctx->principal;
}

const portail_client_t *portail_client(const portail_ctx_t *ctx)
{
    return &ctx->client;
}

portail_arena_t *portail_arena(portail_ctx_t *ctx)
{
    return ctx->arena;
}

void *portail_module_state(const portail_ctx_t *ctx)
{
    return ctx->module ? ctx->module->state : NULL;
}

const char *portail_module_name(const portail_ctx_t *ctx)
{
    return ctx->module ? ctx->module->desc->name : "core";
}

const char *portail_origin(const portail_ctx_t *ctx)
{
    return ctx->host->conf->origin;
}

/* ---- responses ------------------------------------------------------------ */

static int header_value_ok(const char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            return 0;
    return 1;
}

void portail_set_header(portail_ctx_t *ctx, const char *name, const char *value)
{
    /* A CR or LF would let a value smuggle headers: drop it loudly. */
    if (!header_value_ok(name) || !header_value_ok(value)) {
        portail_logf("error", ctx->request_id, "header %s dropped: CR/LF in value", name);
        return;
    }
    struct portail_resp_header *h = portail_alloc(ctx->arena, sizeof(*h));
    h->name = portail_strdup(ctx->arena, name);
    h->value = portail_strdup(ctx->arena, value);
    h->next = NULL;
    struct portail_resp_header **tail = &ctx->resp_headers;
    while (*tail)
        tail = &(*tail)->next;
    *tail = h;
}

int portail_responded(const portail_ctx_t *ctx)
{
    return ctx->status != 0;
}

static void set_body(portail_ctx_t *ctx, int status, const char *type, const void *body, size_t len)
{
    ctx->status = status;
    ctx->resp_type = type;
    ctx->resp_body = body;
    ctx->resp_len = len;
}

void portail_answer_mark(const portail_ctx_t *ctx, portail_answer_mark_t *m)
{
    struct portail_resp_header *last = ctx->resp_headers;
    while (last && last->next)
        last = last->next;
    *m = (portail_answer_mark_t){.status = ctx->status,
                                 .resp_type = ctx->resp_type,
                                 .resp_body = ctx->resp_body,
                                 .resp_len = ctx->resp_len,
                                 .last_header = last,
                                 .problem = ctx->problem,
                                 .principal = ctx->principal,
                                 .csrf_token = ctx->csrf_token,
                                 .signed_out = ctx->signed_out,
                                 .audit_member = ctx->audit_member,
                                 .audit_reason = ctx->audit_reason};
}

void portail_answer_reset(portail_ctx_t *ctx, const portail_answer_mark_t *m)
{
    /* Headers are only ever appended: cutting after the marked last one
     * drops exactly those set since. */
    if (m->last_header)
        m->last_header->next = NULL;
    else
        ctx->resp_headers = NULL;
    set_body(ctx, m->status, m->resp_type, m->resp_body, m->resp_len);
    ctx->problem = m->problem;
    ctx->principal = m->principal;
    ctx->csrf_token = m->csrf_token;
    ctx->signed_out = m->signed_out;
    ctx->audit_member = m->audit_member;
    ctx->audit_reason = m->audit_reason;
}

/* The body as json_dump_callback(JSON_COMPACT) writes it, byte for byte,
 * but written here: callgrind on GET /api/v1/me counted a sixth of the
 * request's instructions in jansson's dump (an snprintf per integer, a
 * call per character of each string, a "%p" snprintf and a hash table
 * entry per object or array for its loop check), and a list page of 20
 * rows has 400 values. The buffer doubles as needed and is freed with the
 * arena. Reals are left to jansson (its shortest-digits format), and a
 * value nested deeper than DUMP_DEPTH fails as jansson's loop check would
 * fail on a cycle. */
#define DUMP_DEPTH 256

typedef struct dump_buf {
    char *buf;
    size_t len, cap;
} dump_buf_t;

static int dump_reserve(dump_buf_t *d, size_t n)
{
    if (n <= d->cap - d->len)
        return 0;
    size_t cap = d->cap;
    while (n > cap - d->len) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *p = realloc(d->buf, cap);
    if (!p)
        return -1;
    d->buf = p;
    d->cap = cap;
    return 0;
}

static inline int dump_put(dump_buf_t *d, const char *s, size_t n)
{
    if (n > d->cap - d->len && dump_reserve(d, n) != 0)
        return -1;
    memcpy(d->buf + d->len, s, n);
    d->len += n;
    return 0;
}

/* One byte of punctuation: the writer puts thousands per list page. */
static inline int dump_ch(dump_buf_t *d, char c)
{
    if (d->len == d->cap && dump_reserve(d, 1) != 0)
        return -1;
    d->buf[d->len++] = c;
    return 0;
}

/* Length of the valid UTF-8 sequence at s (first byte >= 0x80), 0 when
 * invalid: jansson's rules (no overlong form, no surrogate, at most
 * U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Bytes a string cannot carry as they are: controls, '"', '\\', and the
 * first byte of a UTF-8 sequence, which is checked. A table lookup per
 * byte is what the inbox's subjects and /me's user agent cost. */
/* clang-format off */
#define DUMP_ROW(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const unsigned char dump_special[256] = {
    DUMP_ROW(1), DUMP_ROW(1),                       /* 0x00-0x1F */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x22 '"' */
    DUMP_ROW(0), DUMP_ROW(0),                       /* 0x30-0x4F */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x5C '\\' */
    DUMP_ROW(0), DUMP_ROW(0),                       /* 0x60-0x7F */
    DUMP_ROW(1), DUMP_ROW(1), DUMP_ROW(1), DUMP_ROW(1),
    DUMP_ROW(1), DUMP_ROW(1), DUMP_ROW(1), DUMP_ROW(1)}; /* 0x80-0xFF */
#undef DUMP_ROW
/* clang-format on */

static int dump_string(dump_buf_t *d, const char *str, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    /* Room for the quotes and every byte as it is, kept as long as no byte
     * needs an escape: runs and UTF-8 sequences are copied without a check,
     * an escape reserves again for what is left. */
    if (dump_reserve(d, len + 2) != 0)
        return -1;
    char *w = d->buf + d->len;
    *w++ = '"';
    while (s < end) {
        const unsigned char *run = s;
        while (s < end && !dump_special[*s])
            s++;
        memcpy(w, run, (size_t)(s - run));
        w += s - run;
        if (s == end)
            break;
        if (*s >= 0x80) {
            size_t n = utf8_seq(s, (size_t)(end - s));
            if (n == 0) {
                d->len = (size_t)(w - d->buf);
                return -1;
            }
            memcpy(w, s, n);
            w += n;
            s += n;
            continue;
        }
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (*s) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[*s >> 4];
            esc[5] = hex[*s & 0xF];
            n = 6;
        }
        s++;
        d->len = (size_t)(w - d->buf);
        /* The escape, the rest as it is and the closing quote. */
        if (dump_reserve(d, n + (size_t)(end - s) + 1) != 0)
            return -1;
        w = d->buf + d->len;
        memcpy(w, esc, n);
        w += n;
    }
    *w++ = '"';
    d->len = (size_t)(w - d->buf);
    return 0;
}

/* Decimal digits of v at the end of buf[24], without snprintf (the answer
 * and log paths write many); returns where they start. */
char *portail_fmt_ll(char buf[24], long long v, size_t *len)
{
    size_t i = 24;
    /* Negated as unsigned: LLONG_MIN has no positive counterpart. */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[--i] = '-';
    *len = 24 - i;
    return &buf[i];
}

static int dump_integer(dump_buf_t *d, json_int_t v)
{
    char tmp[24];
    size_t n;
    const char *p = portail_fmt_ll(tmp, (long long)v, &n);
    return dump_put(d, p, n);
}

static int dump_value(dump_buf_t *d, const json_t *j, int depth)
{
    if (depth > DUMP_DEPTH)
        return -1;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *v;
        int first = 1;
        if (dump_ch(d, '{') != 0)
            return -1;
        json_object_keylen_foreach((json_t *)j, key, klen, v)
        {
            if ((!first && dump_ch(d, ',') != 0) || dump_string(d, key, klen) != 0 ||
                dump_ch(d, ':') != 0 || dump_value(d, v, depth + 1) != 0)
                return -1;
            first = 0;
        }
        return dump_ch(d, '}');
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        if (dump_ch(d, '[') != 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            if ((i && dump_ch(d, ',') != 0) || dump_value(d, json_array_get(j, i), depth + 1) != 0)
                return -1;
        return dump_ch(d, ']');
    }
    case JSON_STRING:
        return dump_string(d, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return dump_integer(d, json_integer_value(j));
    case JSON_REAL: {
        char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        int rc = s ? dump_put(d, s, strlen(s)) : -1;
        portail_json_free(s);
        return rc;
    }
    case JSON_TRUE:
        return dump_put(d, "true", 4);
    case JSON_FALSE:
        return dump_put(d, "false", 5);
    case JSON_NULL:
        return dump_put(d, "null", 4);
    }
    return -1;
}

/* flags: JSON_ENCODE_ANY or 0 (compact either way); without it only an
 * object or an array is written, as jansson does. */
static char *dump_json(portail_arena_t *a, const json_t *j, size_t flags, size_t *len)
{
    if (!j || (!(flags & JSON_ENCODE_ANY) && !json_is_object(j) && !json_is_array(j)))
        return NULL;
    dump_buf_t d = {.buf = malloc(4096), .len = 0, .cap = 4096};
    if (!d.buf)
        return NULL;
    if (dump_value(&d, j, 0) != 0 || d.len == 0) {
        free(d.buf);
        return NULL;
    }
    portail_arena_defer(a, free, d.buf);
    *len = d.len;
    return d.buf;
}

void portail_respond_json(portail_ctx_t *ctx, int status, json_t *body)
{
    ctx->problem = NULL;
    if (!body) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    size_t len = 0;
    char *s = dump_json(ctx->arena, body, JSON_COMPACT | JSON_ENCODE_ANY, &len);
    json_decref(body);
    if (!s) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    set_body(ctx, status, "application/json", s, len);
}

/* ---- JSON written as it goes (portail_jw_*) --------------------------------
 * The rows of a list page straight into the answer's bytes, without a
 * jansson object per row (docs/performance.md, session 8): the same
 * dump_string, integers and reals as portail_respond_json, so the bytes are
 * those a jansson value of the same members would give. One flag places the
 * commas: a value or a key after a complete value gets one. */
struct portail_jw {
    dump_buf_t d;
    bool comma;
    bool failed;
};

static void jw_free(void *data)
{
    free(((portail_jw_t *)data)->d.buf);
}

portail_jw_t *portail_jw_new(portail_arena_t *a)
{
    portail_jw_t *w = portail_calloc(a, sizeof *w);
    w->d.buf = malloc(4096);
    if (!w->d.buf) {
        w->failed = true;
        return w;
    }
    w->d.cap = 4096;
    portail_arena_defer(a, jw_free, w);
    return w;
}

/* The separator before a value or a key; 0, or -1 once the writer failed. */
static inline int jw_sep(portail_jw_t *w)
{
    if (w->failed)
        return -1;
    if (w->comma && dump_ch(&w->d, ',') != 0) {
        w->failed = true;
        return -1;
    }
    return 0;
}

static inline int jw_done(portail_jw_t *w, int rc)
{
    if (rc != 0) {
        w->failed = true;
        return -1;
    }
    w->comma = true;
    return 0;
}

int portail_jw_open(portail_jw_t *w, char c)
{
    if (jw_sep(w) != 0)
        return -1;
    if ((c != '{' && c != '[') || dump_ch(&w->d, c) != 0) {
        w->failed = true;
        return -1;
    }
    w->comma = false;
    return 0;
}

int portail_jw_close(portail_jw_t *w, char c)
{
    if (w->failed)
        return -1;
    return jw_done(w, c == '}' || c == ']' ? dump_ch(&w->d, c) : -1);
}

int portail_jw_key(portail_jw_t *w, const char *key)
{
    if (jw_sep(w) != 0)
        return -1;
    if (dump_string(&w->d, key, strlen(key)) != 0 || dump_ch(&w->d, ':') != 0) {
        w->failed = true;
        return -1;
    }
    w->comma = false;
    return 0;
}

/* A key's text as portail_jw_key writes it ("key":), rendered once into
 * a (a result set's column names: portail_dbrow_fields writes them for
 * every row); NULL when longer than is worth it or not UTF-8. */
char *portail_jw_key_text(portail_arena_t *a, const char *key, size_t *len)
{
    char buf[256];
    size_t n = strlen(key);
    /* Every byte escaped (6), the quotes and the colon fit: no realloc. */
    if (n > 40)
        return NULL;
    dump_buf_t d = {.buf = buf, .len = 0, .cap = sizeof buf};
    if (dump_string(&d, key, n) != 0 || dump_ch(&d, ':') != 0)
        return NULL;
    *len = d.len;
    return portail_memdup(a, d.buf, d.len);
}

int portail_jw_key_raw(portail_jw_t *w, const char *text, size_t len)
{
    if (jw_sep(w) != 0)
        return -1;
    if (dump_put(&w->d, text, len) != 0) {
        w->failed = true;
        return -1;
    }
    w->comma = false;
    return 0;
}

int portail_jw_strn(portail_jw_t *w, const char *s, size_t len)
{
    if (jw_sep(w) != 0)
        return -1;
    return jw_done(w, dump_string(&w->d, s, len));
}

int portail_jw_str(portail_jw_t *w, const char *s)
{
    return s ? portail_jw_strn(w, s, strlen(s)) : portail_jw_null(w);
}

int portail_jw_int(portail_jw_t *w, long long v)
{
    if (jw_sep(w) != 0)
        return -1;
    return jw_done(w, dump_integer(&w->d, (json_int_t)v));
}

int portail_jw_bool(portail_jw_t *w, int v)
{
    if (jw_sep(w) != 0)
        return -1;
    return jw_done(w, v ? dump_put(&w->d, "true", 4) : dump_put(&w->d, "false", 5));
}

int portail_jw_null(portail_jw_t *w)
{
    if (jw_sep(w) != 0)
        return -1;
    return jw_done(w, dump_put(&w->d, "null", 4));
}

int portail_jw_json(portail_jw_t *w, const json_t *v)
{
    if (jw_sep(w) != 0)
        return -1;
    return jw_done(w, v ? dump_value(&w->d, v, 0) : -1);
}

void portail_jw_fail(portail_jw_t *w)
{
    w->failed = true;
}

int portail_jw_failed(const portail_jw_t *w)
{
    return w && w->failed;
}

void portail_respond_jw(portail_ctx_t *ctx, int status, portail_jw_t *w)
{
    ctx->problem = NULL;
    if (!w || w->failed || w->d.len == 0) {
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    set_body(ctx, status, "application/json", w->d.buf, w->d.len);
}

void portail_respond_empty(portail_ctx_t *ctx, int status)
{
    ctx->problem = NULL;
    set_body(ctx, status, NULL, NULL, 0);
}

void portail_respond_file(portail_ctx_t *ctx, int status, const char *content_type,
                          const void *data, size_t len, const char *filename)
{
    ctx->problem = NULL;
    /* Only a conservative ASCII subset reaches the header: no quoting games. */
    char safe[128];
    size_t n = 0;
    for (const char *p = filename ? filename : "fichier"; *p && n + 1 < sizeof(safe); p++) {
        char c = *p;
        safe[n++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '-' || c == '_')
                        ? c
                        : '_';
    }
    safe[n] = '\0';
    portail_set_header(ctx, "Content-Disposition",
                       portail_sprintf(ctx->arena, "attachment; filename=\"%s\"", safe));
    set_body(ctx, status, portail_strdup(ctx->arena, content_type),
             portail_memdup(ctx->arena, data, len), len);
}

const char *portail_file_type_mime(portail_file_type_t type)
{
    switch (type) {
    case PORTAIL_FILE_PDF:
        return "application/pdf";
    case PORTAIL_FILE_JPEG:
        return "image/jpeg";
    case PORTAIL_FILE_PNG:
        return "image/png";
    case PORTAIL_FILE_ICS:
        return "text/calendar; charset=utf-8";
    case PORTAIL_FILE_JSON:
        return "application/json";
    case PORTAIL_FILE_CSV:
        return "text/csv; charset=utf-8";
    case PORTAIL_FILE_TEXT:
        return "text/plain; charset=utf-8";
    }
    return NULL;
}

/* RFC 5987 attr-char: what may stand unescaped in filename*. */
static int attr_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$&+-.^_`|~", c) != NULL;
}

/* Content-Disposition for a (possibly hostile) UTF-8 name: the ASCII
 * fallback keeps a conservative subset, filename* percent-encodes every
 * other byte, so neither a quote nor a CR/LF can leave the parameter. A
 * path is cut to its last component, control characters are dropped, and
 * the name is bounded. */
static const char *disposition_value(portail_arena_t *a, portail_disposition_t disp,
                                     const char *filename)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *base = filename && *filename ? filename : "fichier";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = strnlen(base, 255);
    /* Do not cut a UTF-8 sequence in two. */
    while (n > 0 && n < strlen(base) && ((unsigned char)base[n] & 0xC0) == 0x80)
        n--;
    char ascii[256], enc[256 * 3 + 1];
    size_t ai = 0, ei = 0;
    int plain = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)base[i];
        if (c < 0x20 || c == 0x7F)
            continue;
        int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '-' || c == '_' || c == ' ' || c == '(' || c == ')';
        if (!safe)
            plain = 0;
        /* One '_' per UTF-8 character in the fallback, not per byte. */
        if (safe)
            ascii[ai++] = (char)c;
        else if (c < 0x80 || (c & 0xC0) == 0xC0)
            ascii[ai++] = '_';
        if (attr_char(c)) {
            enc[ei++] = (char)c;
        } else {
            enc[ei++] = '%';
            enc[ei++] = hex[c >> 4];
            enc[ei++] = hex[c & 15];
        }
    }
    if (ai == 0 || (ai == 1 && ascii[0] == '.'))
        ascii[ai++] = '_';
    ascii[ai] = '\0';
    enc[ei] = '\0';
    const char *kind = disp == PORTAIL_INLINE ? "inline" : "attachment";
    if (plain)
        return portail_sprintf(a, "%s; filename=\"%s\"", kind, ascii);
    return portail_sprintf(a, "%s; filename=\"%s\"; filename*=UTF-8''%s", kind, ascii, enc);
}

void portail_respond_bytes(portail_ctx_t *ctx, int status, portail_file_type_t type,
                           portail_disposition_t disposition, const void *data, size_t len,
                           const char *filename)
{
    const char *mime = portail_file_type_mime(type);
    if (!mime || (!data && len)) {
        portail_log_error(ctx, "portail_respond_bytes: unknown type %d", (int)type);
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    ctx->problem = NULL;
    portail_set_header(ctx, "Content-Disposition",
                       disposition_value(ctx->arena, disposition, filename));
    /* X-Content-Type-Options: nosniff is on every answer (host.c). */
    portail_set_header(ctx, "Content-Security-Policy", "sandbox");
    set_body(ctx, status, mime, data ? data : "", len);
}

static const struct {
    int status;
    const char *slug;
    const char *title;
} problems[] = {
    {400, "requete-invalide", TXT_HTTP_REQUETE_INVALIDE},
    {401, "authentification-requise", TXT_HTTP_AUTHENTIFICATION_REQUISE},
    {403, "acces-refuse", TXT_HTTP_ACCES_REFUSE},
    {404, "introuvable", TXT_HTTP_RESSOURCE_INTROUVABLE},
    {405, "methode-non-autorisee", TXT_HTTP_METHODE_NON_AUTORISEE},
    {409, "conflit", TXT_HTTP_CONFLIT},
    {410, "expire", TXT_HTTP_LIEN_EXPIRE_DEJA_UTILISE},
    {413, "trop-volumineux", TXT_HTTP_REQUETE_TROP_VOLUMINEUSE},
    {415, "type-non-pris-en-charge", TXT_HTTP_TYPE_CONTENU_NON_PRIS},
    {422, "donnees-invalides", TXT_HTTP_DONNEES_INVALIDES},
    {423, "compte-bloque", TXT_HTTP_COMPTE_BLOQUE},
    {429, "trop-de-requetes", TXT_HTTP_TROP_REQUETES},
    {431, "en-tetes-trop-volumineux", TXT_HTTP_EN_TETES_TROP_VOLUMINEUX},
    {500, "erreur-interne", TXT_HTTP_ERREUR_INTERNE},
    {503, "indisponible", TXT_COMMUN_SERVICE_MOMENTANEMENT_INDISPONIBLE},
};

static size_t problem_index(int status)
{
    for (size_t i = 0; i < sizeof(problems) / sizeof(problems[0]); i++)
        if (problems[i].status == status)
            return i;
    return sizeof(problems) / sizeof(problems[0]) - 2; /* 500 */
}

static void render_problem(portail_ctx_t *ctx)
{
    size_t len = 0;
    char *s = dump_json(ctx->arena, ctx->problem, JSON_COMPACT, &len);
    if (!s) {
        set_body(ctx, 500, "application/problem+json", "{}", 2);
        return;
    }
    set_body(ctx, (int)json_integer_value(json_object_get(ctx->problem, "status")),
             "application/problem+json", s, len);
}

/* The instance is a URI reference: bytes a raw request path may carry but a
 * URI may not (controls, non-ASCII, which could also be invalid UTF-8 that
 * jansson would refuse, dropping the member) are percent-encoded. */
static const char *problem_instance(portail_ctx_t *ctx)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *path = ctx->path ? ctx->path : "/";
    size_t n = strlen(path), extra = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)path[i] <= 0x20 || (unsigned char)path[i] >= 0x7F)
            extra += 2;
    if (!extra)
        return path;
    char *out = portail_alloc(ctx->arena, n + extra + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c <= 0x20 || c >= 0x7F) {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return out;
}

void portail_problem(portail_ctx_t *ctx, int status, const char *title, const char *detail)
{
    size_t i = problem_index(status);
    json_t *p = json_object();
    json_object_set_new(p, "type", json_sprintf("urn:portail:probleme:%s", problems[i].slug));
    json_object_set_new(p, "title", json_string(title ? title : problems[i].title));
    json_object_set_new(p, "status", json_integer(status));
    json_object_set_new(p, "detail", json_string(detail ? detail : problems[i].title));
    json_object_set_new(p, "instance", json_string(problem_instance(ctx)));
    json_object_set_new(p, "request_id", json_string(ctx->request_id));
    /* Only a request that carried the revoked session's own token gets
     * this: the page tells why it was signed out (core/session.c). */
    if (status == 401 && ctx->signed_out)
        json_object_set_new(p, "signed_out", json_string(ctx->signed_out));
    ctx->problem = portail_arena_json(ctx->arena, p);
    render_problem(ctx);
}

void portail_problem_extra(portail_ctx_t *ctx, const char *key, json_t *value)
{
    if (!ctx->problem) {
        json_decref(value);
        return;
    }
    json_object_set_new(ctx->problem, key, value);
    render_problem(ctx);
}

void portail_problem_fields(portail_ctx_t *ctx, json_t *errors)
{
    portail_problem(ctx, 422, NULL, TXT_HTTP_CHAMPS_INVALIDES);
    portail_problem_extra(ctx, "errors", errors ? errors : json_array());
}

void portail_field_error(json_t **errors, const char *field, const char *message)
{
    if (!*errors)
        *errors = json_array();
    json_array_append_new(*errors, json_pack("{s:s, s:s}", "field", field, "message", message));
}

void portail_problem_retry(portail_ctx_t *ctx, int status, int retry_after_s, const char *title,
                           const char *detail)
{
    char v[16];
    snprintf(v, sizeof(v), "%d", retry_after_s > 0 ? retry_after_s : 1);
    portail_set_header(ctx, "Retry-After", v);
    portail_problem(ctx, status, title, detail);
    portail_problem_extra(ctx, "retry_after", json_integer(retry_after_s > 0 ? retry_after_s : 1));
}

/* ---- logging ---------------------------------------------------------------- */

#define CTX_LOG(level)                                                                             \
    va_list ap;                                                                                    \
    va_start(ap, fmt);                                                                             \
    portail_vlogf(level, ctx->request_id, fmt, ap);                                                \
    va_end(ap)

void portail_log_info(portail_ctx_t *ctx, const char *fmt, ...)
{
    CTX_LOG("info");
}

void portail_log_warn(portail_ctx_t *ctx, const char *fmt, ...)
{
    CTX_LOG("warn");
}

void portail_log_error(portail_ctx_t *ctx, const char *fmt, ...)
{
    CTX_LOG("error");
}

/* ---- input helpers ------------------------------------------------------------ */

int portail_query_int(portail_ctx_t *ctx, const char *name, long long min, long long max,
                      long long def, long long *out)
{
    *out = def;
    if (query_ll(ctx, name, min, max, out) < 0) {
        portail_problem(
            ctx, 400, NULL,
            portail_sprintf(ctx->arena, TXT_HTTP_PARAMETRE_DOIT_ETRE_ENTIER, name, min, max));
        return -1;
    }
    return 0;
}

const char *portail_json_str(json_t *obj, const char *key, size_t min, size_t max, json_t **errors)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0 && min > 0)) {
        portail_field_error(errors, key, TXT_HTTP_CHAMP_OBLIGATOIRE);
        return NULL;
    }
    if (!json_is_string(v)) {
        portail_field_error(errors, key, TXT_HTTP_CHAMP_DOIT_ETRE_CHAINE);
        return NULL;
    }
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n < min || n > max || memchr(s, '\0', n)) {
        char msg[128];
        snprintf(msg, sizeof(msg), TXT_HTTP_CHAMP_DOIT_COMPORTER_ENTRE, min, max);
        portail_field_error(errors, key, msg);
        return NULL;
    }
    return s;
}
