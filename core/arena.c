/* Per-request bump allocator with cleanup hooks (see portail/arena.h). */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portail/arena.h"

#define ARENA_ALIGN 16u

struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    /* data follows, aligned */
};

struct cleanup {
    portail_cleanup_fn fn;
    void *data;
    struct cleanup *next;
};

struct portail_arena {
    struct block *head; /* current block; the first allocated block is kept */
    struct block *first;
    size_t block_size;
    size_t total;
    struct cleanup *cleanups;
};

static size_t align_up(size_t n)
{
    return (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
}

static size_t header_size(void)
{
    return align_up(sizeof(struct block));
}

static void oom(void)
{
    fputs("portail: out of memory\n", stderr);
    abort();
}

static struct block *block_new(size_t size)
{
    if (size > SIZE_MAX - header_size())
        oom();
    struct block *b = malloc(header_size() + size);
    if (!b)
        oom();
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

portail_arena_t *portail_arena_new(size_t block_size)
{
    portail_arena_t *a = calloc(1, sizeof(*a));
    if (!a)
        oom();
    a->block_size = block_size ? align_up(block_size) : 64 * 1024;
    a->first = a->head = block_new(a->block_size);
    return a;
}

static void run_cleanups(portail_arena_t *a)
{
    /* Hooks may register more hooks (releasing a connection may log); loop
     * until the list stays empty. */
    while (a->cleanups) {
        struct cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->data);
    }
}

/* jansson's values, made during a request, in the request's arena: a list
 * page of 20 rows is some 700 mallocs and frees (an object, its table, a
 * pair and a value per field), which callgrind counted at a third of the
 * page's instructions. A value made outside a request (module settings,
 * the jobs, json_dumps's text there) is malloc'd as before; a request's
 * die with its arena, the arena's rule. json_arena is where new values
 * go, json_owner the arena whose blocks free() must not be called on
 * (until the end of its reset's cleanups). */
static _Thread_local portail_arena_t *json_arena, *json_owner;

static void *json_alloc(size_t n)
{
    return json_arena ? portail_alloc(json_arena, n) : malloc(n);
}

static bool arena_owns(const portail_arena_t *a, const void *p)
{
    const char *c = p;
    for (const struct block *b = a->head; b; b = b->next) {
        const char *start = (const char *)b + header_size();
        if (c >= start && c < start + b->size)
            return true;
    }
    return false;
}

void portail_json_free(void *p)
{
    if (p && !(json_owner && arena_owns(json_owner, p)))
        free(p);
}

void portail_arena_json_setup(void)
{
    json_set_alloc_funcs(json_alloc, portail_json_free);
}

void portail_arena_json_begin(portail_arena_t *a)
{
    json_arena = json_owner = a;
}

void portail_arena_reset(portail_arena_t *a)
{
    if (!a)
        return;
    /* The cleanups free the request's values (nothing to do for those in
     * the arena); what they make is the heap's. */
    if (json_arena == a)
        json_arena = NULL;
    run_cleanups(a);
    if (json_owner == a)
        json_owner = NULL;
    /* What a request leaves here (passwords, codes, tokens from its body)
     * must not outlive it in memory (ASVS 8.3.6): wiped before reuse. */
    struct block *b = a->head;
    while (b && b != a->first) {
        struct block *next = b->next;
        explicit_bzero((char *)b + header_size(), b->used);
        free(b);
        b = next;
    }
    explicit_bzero((char *)a->first + header_size(), a->first->used);
    a->head = a->first;
    a->first->next = NULL;
    a->first->used = 0;
    a->total = 0;
}

void portail_arena_free(portail_arena_t *a)
{
    if (!a)
        return;
    portail_arena_reset(a);
    free(a->first);
    free(a);
}

void *portail_alloc(portail_arena_t *a, size_t n)
{
    size_t need = align_up(n ? n : 1);
    if (need < n)
        oom();
    struct block *b = a->head;
    if (b->size - b->used < need) {
        /* Large requests get a block of their own so that one upload does
         * not waste the rest of a normal block. */
        size_t size = need > a->block_size ? need : a->block_size;
        b = block_new(size);
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b + header_size() + b->used;
    b->used += need;
    a->total += need;
    return p;
}

void *portail_calloc(portail_arena_t *a, size_t n)
{
    void *p = portail_alloc(a, n);
    memset(p, 0, n);
    return p;
}

void *portail_memdup(portail_arena_t *a, const void *p, size_t n)
{
    void *q = portail_alloc(a, n);
    if (n)
        memcpy(q, p, n);
    return q;
}

char *portail_strndup(portail_arena_t *a, const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *q = portail_alloc(a, len + 1);
    memcpy(q, s, len);
    q[len] = '\0';
    return q;
}

char *portail_strdup(portail_arena_t *a, const char *s)
{
    if (!s)
        return NULL;
    return portail_memdup(a, s, strlen(s) + 1);
}

char *portail_vsprintf(portail_arena_t *a, const char *fmt, va_list ap)
{
    /* Formatted once when it fits the stack buffer (dates, paths, ids: a
     * list page makes a hundred), twice only when longer. */
    char buf[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(buf, sizeof buf, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return portail_strdup(a, "");
    char *s;
    if ((size_t)n < sizeof buf) {
        s = portail_memdup(a, buf, (size_t)n + 1);
        /* A Set-Cookie with the session token is formatted here: no copy of
         * it outlives the request on the worker's stack (the arena is wiped
         * at its reset, ASVS 8.3.6). */
        explicit_bzero(buf, (size_t)n + 1);
        return s;
    }
    explicit_bzero(buf, sizeof buf);
    s = portail_alloc(a, (size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *portail_sprintf(portail_arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = portail_vsprintf(a, fmt, ap);
    va_end(ap);
    return s;
}

void portail_arena_defer(portail_arena_t *a, portail_cleanup_fn fn, void *data)
{
    struct cleanup *c = portail_alloc(a, sizeof(*c));
    c->fn = fn;
    c->data = data;
    c->next = a->cleanups;
    a->cleanups = c;
}

static void decref(void *j)
{
    json_decref(j);
}

json_t *portail_arena_json(portail_arena_t *a, json_t *j)
{
    if (j)
        portail_arena_defer(a, decref, j);
    return j;
}

size_t portail_utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    /* overlong forms, surrogates, beyond U+10FFFF */
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return len;
}

/* The columns are utf8mb4 under strict mode, where one stray byte of a user
 * agent would fail the whole INSERT (and the sign-in with it): bad bytes and
 * control characters become '?', and the cut falls on a character boundary. */
int portail_utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t len = portail_utf8_seq((const unsigned char *)s + i, n - i);
        if (len == 0)
            return 0;
        i += len;
    }
    return 1;
}

char *portail_clip_utf8(portail_arena_t *a, const char *s, size_t max)
{
    if (!s || !*s)
        return NULL;
    size_t n = strlen(s);
    char *out = portail_alloc(a, (n < max ? n : max) + 1);
    size_t i = 0, o = 0;
    while (i < n) {
        const unsigned char *p = (const unsigned char *)s + i;
        size_t len = portail_utf8_seq(p, n - i);
        if (len == 0 || (len == 1 && (*p < 0x20 || *p == 0x7F))) {
            if (o + 1 > max)
                break;
            out[o++] = '?';
            i++;
            continue;
        }
        if (o + len > max)
            break;
        memcpy(out + o, p, len);
        o += len;
        i += len;
    }
    out[o] = '\0';
    return out;
}

size_t portail_arena_used(const portail_arena_t *a)
{
    return a->total;
}
