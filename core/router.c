/* Method + pattern routing over pre-split patterns. A path is matched on
 * its raw segments and params are decoded afterwards, so that an encoded
 * '/' inside an id never changes which route matches. With every module
 * there are some 130 routes: a request compares only those whose segment
 * count and third segment (/api/v1/<this>/...) are its own, plus the few
 * whose third segment is a parameter or missing, in the order they were
 * added (callgrind: the scan of all was 3 k instructions a request). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_SEGMENTS 32
#define MAX_PATH 2048

struct segment {
    char *text; /* literal, or param name when is_param */
    size_t len; /* of text: every request compares it with each route's */
    int is_param;
};

struct entry {
    const portail_route_t *route;
    const portail_loaded_module_t *module;
    struct segment seg[MAX_SEGMENTS];
    int nseg;
    int literals;
    size_t next; /* 1 + the next entry of its chain, in order added; 0: none */
};

#define KEY_SEGMENT 2
#define BUCKETS 256

/* A chain of entries by 1 + index (0: empty), so that the array may move. */
struct chain {
    size_t head, tail;
};

struct portail_router {
    struct entry *v;
    size_t n, cap;
    struct chain bucket[BUCKETS]; /* by segment count and KEY_SEGMENT's text */
    struct chain rest;            /* the others */
};

static unsigned bucket_of(int nseg, const char *text, size_t len)
{
    uint32_t h = 2166136261u ^ (uint32_t)nseg; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)text[i];
        h *= 16777619u;
    }
    return h % BUCKETS;
}

portail_router_t *portail_router_new(void)
{
    return calloc(1, sizeof(portail_router_t));
}

void portail_router_free(portail_router_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        for (int s = 0; s < r->v[i].nseg; s++)
            free(r->v[i].seg[s].text);
    free(r->v);
    free(r);
}

static int literal_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return n > 0;
}

static int split_pattern(const char *pattern, struct entry *e, char *err, size_t errlen)
{
    if (!pattern || pattern[0] != '/' || strlen(pattern) > MAX_PATH) {
        snprintf(err, errlen, "route pattern \"%s\" must start with /", pattern ? pattern : "");
        return -1;
    }
    const char *p = pattern + 1;
    e->nseg = 0;
    e->literals = 0;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (e->nseg == MAX_SEGMENTS) {
            snprintf(err, errlen, "route pattern \"%s\" has too many segments", pattern);
            return -1;
        }
        struct segment *s = &e->seg[e->nseg];
        if (n >= 3 && p[0] == '{' && p[n - 1] == '}' && literal_ok(p + 1, n - 2)) {
            s->is_param = 1;
            s->text = strndup(p + 1, n - 2);
        } else if (literal_ok(p, n)) {
            s->is_param = 0;
            s->text = strndup(p, n);
            e->literals++;
        } else {
            snprintf(err, errlen, "route pattern \"%s\" has an invalid segment", pattern);
            return -1;
        }
        if (!s->text) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        s->len = strlen(s->text);
        e->nseg++;
        p += n;
        if (*p == '/')
            p++;
    }
    return 0;
}

static int same_shape(const struct entry *a, const struct entry *b)
{
    if (a->nseg != b->nseg)
        return 0;
    for (int i = 0; i < a->nseg; i++) {
        if (a->seg[i].is_param != b->seg[i].is_param)
            return 0;
        if (!a->seg[i].is_param && strcmp(a->seg[i].text, b->seg[i].text) != 0)
            return 0;
    }
    return 1;
}

int portail_router_add(portail_router_t *r, const portail_route_t *route,
                       const portail_loaded_module_t *m, char *err, size_t errlen)
{
    struct entry e = {.route = route, .module = m};
    if (split_pattern(route->pattern, &e, err, errlen) < 0) {
        for (int s = 0; s < e.nseg; s++)
            free(e.seg[s].text);
        return -1;
    }
    for (size_t i = 0; i < r->n; i++) {
        if ((r->v[i].route->methods & route->methods) && same_shape(&r->v[i], &e)) {
            snprintf(err, errlen, "duplicate route %s %s (modules %s and %s)",
                     portail_methods_str(NULL, r->v[i].route->methods & route->methods),
                     route->pattern, r->v[i].module ? r->v[i].module->desc->name : "core",
                     m ? m->desc->name : "core");
            for (int s = 0; s < e.nseg; s++)
                free(e.seg[s].text);
            return -1;
        }
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct entry *v = realloc(r->v, cap * sizeof(*v));
        if (!v) {
            snprintf(err, errlen, "out of memory");
            for (int s = 0; s < e.nseg; s++)
                free(e.seg[s].text);
            return -1;
        }
        r->v = v;
        r->cap = cap;
    }
    e.next = 0;
    struct chain *c =
        e.nseg > KEY_SEGMENT && !e.seg[KEY_SEGMENT].is_param
            ? &r->bucket[bucket_of(e.nseg, e.seg[KEY_SEGMENT].text, e.seg[KEY_SEGMENT].len)]
            : &r->rest;
    r->v[r->n++] = e;
    if (c->tail)
        r->v[c->tail - 1].next = r->n;
    else
        c->head = r->n;
    c->tail = r->n;
    return 0;
}

void portail_router_each(const portail_router_t *r,
                         void (*fn)(const portail_route_t *route, const portail_loaded_module_t *m,
                                    void *arg),
                         void *arg)
{
    for (size_t i = 0; i < r->n; i++)
        fn(r->v[i].route, r->v[i].module, arg);
}

static unsigned method_bit(const char *method)
{
    static const struct {
        const char *name;
        unsigned bit;
    } map[] = {{"GET", PORTAIL_GET}, {"HEAD", PORTAIL_GET},    {"POST", PORTAIL_POST},
               {"PUT", PORTAIL_PUT}, {"PATCH", PORTAIL_PATCH}, {"DELETE", PORTAIL_DELETE}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].name, method) == 0)
            return map[i].bit;
    return 0;
}

const char *portail_methods_str(portail_arena_t *a, unsigned methods)
{
    static const char *const names[] = {"GET, HEAD", "POST", "PUT", "PATCH", "DELETE"};
    char buf[64] = "";
    for (unsigned i = 0; i < 5; i++) {
        if (methods & (1u << i)) {
            if (buf[0])
                strcat(buf, ", ");
            strcat(buf, names[i]);
        }
    }
    if (!a) {
        /* Only used for load-time messages: a static buffer is enough there. */
        static char shared[64];
        memcpy(shared, buf, sizeof(shared));
        return shared;
    }
    return portail_strdup(a, buf);
}

int portail_router_match(const portail_router_t *r, portail_arena_t *a, const char *method,
                         const char *path, portail_match_t *m)
{
    memset(m, 0, sizeof(*m));
    size_t plen = strlen(path);
    /* "/items/" is not "/items": one resource, one address. */
    if (path[0] != '/' || plen > MAX_PATH || (plen > 1 && path[plen - 1] == '/'))
        return 404;
    /* Split the raw path once. */
    const char *seg[MAX_SEGMENTS];
    size_t len[MAX_SEGMENTS];
    int nseg = 0;
    const char *p = path + 1;
    while (*p) {
        if (nseg == MAX_SEGMENTS)
            return 404;
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        seg[nseg] = p;
        len[nseg++] = n;
        p += n;
        if (*p == '/')
            p++;
    }
    unsigned want = method_bit(method);
    const struct entry *best = NULL;
    /* The path's bucket and the rest, merged in the order added: among
     * routes as specific as each other, the first added wins, as before. */
    size_t in_bucket = nseg > KEY_SEGMENT
                           ? r->bucket[bucket_of(nseg, seg[KEY_SEGMENT], len[KEY_SEGMENT])].head
                           : 0;
    size_t in_rest = r->rest.head;
    while (in_bucket || in_rest) {
        size_t i;
        if (in_bucket && (!in_rest || in_bucket < in_rest)) {
            i = in_bucket - 1;
            in_bucket = r->v[i].next;
        } else {
            i = in_rest - 1;
            in_rest = r->v[i].next;
        }
        const struct entry *e = &r->v[i];
        if (e->nseg != nseg)
            continue;
        int ok = 1;
        for (int s = 0; s < nseg && ok; s++) {
            if (e->seg[s].is_param)
                ok = len[s] > 0;
            else
                ok = e->seg[s].len == len[s] && memcmp(e->seg[s].text, seg[s], len[s]) == 0;
        }
        if (!ok)
            continue;
        m->allowed |= e->route->methods;
        if ((e->route->methods & want) && (!best || e->literals > best->literals))
            best = e;
    }
    if (!best)
        return m->allowed ? 405 : 404;
    m->route = best->route;
    m->module = best->module;
    int nparams = best->nseg - best->literals;
    if (nparams > 0) {
        m->params = portail_alloc(a, sizeof(portail_kv_t) * (size_t)nparams);
        for (int s = 0; s < nseg; s++) {
            if (!best->seg[s].is_param)
                continue;
            char *v = portail_url_decode(a, seg[s], len[s], 0);
            if (!v)
                return 404;
            m->params[m->nparams].key = best->seg[s].text;
            m->params[m->nparams].value = v;
            m->nparams++;
        }
    }
    return 0;
}
