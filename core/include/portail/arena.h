/* Per-request memory: a bump allocator reset after each request, with cleanup
 * hooks so that foreign resources (jansson values, result sets, the database
 * connection) are released on every path without the handler tracking them. */
#ifndef PORTAIL_ARENA_H
#define PORTAIL_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct portail_arena portail_arena_t;
typedef void (*portail_cleanup_fn)(void *data);

portail_arena_t *portail_arena_new(size_t block_size);
void portail_arena_free(portail_arena_t *a);
/* Runs cleanup hooks (last registered first) then forgets every allocation,
 * keeping the first block for the next request. */
void portail_arena_reset(portail_arena_t *a);

/* Never returns NULL: an allocation failure aborts the process, because a
 * half-served request is worse than a restart by the supervisor. */
void *portail_alloc(portail_arena_t *a, size_t n);
void *portail_calloc(portail_arena_t *a, size_t n);
char *portail_strdup(portail_arena_t *a, const char *s);
char *portail_strndup(portail_arena_t *a, const char *s, size_t n);
void *portail_memdup(portail_arena_t *a, const void *p, size_t n);
char *portail_sprintf(portail_arena_t *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *portail_vsprintf(portail_arena_t *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

void portail_arena_defer(portail_arena_t *a, portail_cleanup_fn fn, void *data);
/* Frees what json_dumps returned (jansson's allocator is portaild's: during
 * a request the text lives in the request's arena and this does nothing). */
void portail_json_free(void *p);

/* Steals a jansson reference: json_decref runs at reset. Returns j. */
struct json_t;
struct json_t *portail_arena_json(portail_arena_t *a, struct json_t *j);

size_t portail_arena_used(const portail_arena_t *a);

/* Copy of s for a utf8mb4 column of max bytes: invalid bytes and control
 * characters become '?', the cut falls on a character boundary. NULL for NULL
 * or empty input. */
char *portail_clip_utf8(portail_arena_t *a, const char *s, size_t max);
/* 1 when s[0..n) is well-formed UTF-8 (no overlong forms or surrogates). */
int portail_utf8_valid(const char *s, size_t n);

#endif
