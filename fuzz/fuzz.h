/* Shared by the harnesses: one arena reused across inputs (reset, as the
 * host resets a request's arena) and a request context as host.c builds it,
 * so that the core's functions run exactly as they do under portaild. */
#ifndef PORTAIL_FUZZ_H
#define PORTAIL_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "portail/nir.h"
#include "portail/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline portail_arena_t *fuzz_arena(void)
{
    static portail_arena_t *a;
    if (a == NULL)
        a = portail_arena_new(0);
    else
        portail_arena_reset(a);
    return a;
}

/* The input as a C string, as the host sees a header or a URI: up to the
 * first NUL, which FastCGI parameters cannot carry. */
static inline char *fuzz_cstr(portail_arena_t *a, const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    return portail_strndup(a, (const char *)data, nul ? (size_t)(nul - data) : size);
}

static inline void fuzz_ctx(portail_ctx_t *ctx, portail_arena_t *a, const char *method,
                            const char *path)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->arena = a;
    ctx->method = method;
    ctx->path = path;
    memcpy(ctx->request_id, "00112233445566778899aabbccddeeff", 33);
}

/* The body as the host reads it: len bytes into len + 1, ended by a NUL. */
static inline void fuzz_body(portail_ctx_t *ctx, const uint8_t *data, size_t len)
{
    ctx->body = portail_alloc(ctx->arena, len + 1);
    if (len)
        memcpy(ctx->body, data, len);
    ctx->body[len] = '\0';
    ctx->body_len = len;
}

/* A condition the code promises: breaking it is a finding like a crash. */
#define FUZZ_ASSERT(c)                                                                             \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

#endif
