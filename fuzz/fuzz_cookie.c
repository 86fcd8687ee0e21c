/* The Cookie header: portail_parse_cookies with the host's limit of 32
 * (core/host.c MAX_COOKIES), then what session loading does with the
 * session cookie's value (portail_secret_hash). */
#include <sodium.h>

#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return sodium_init() < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    portail_arena_t *a = fuzz_arena();
    /* The host refuses a header over server.max_cookie_bytes (at most
     * 65536) before parsing it. */
    if (size > 65536)
        return 0;
    const char *header = fuzz_cstr(a, data, size);
    portail_ctx_t ctx;
    fuzz_ctx(&ctx, a, "GET", "/api/v1/me");

    int n = portail_parse_cookies(a, header, 32, &ctx.cookies);
    FUZZ_ASSERT(n >= -1 && n <= 32);
    if (n < 0)
        return 0;
    ctx.ncookies = (size_t)n;
    for (size_t i = 0; i < ctx.ncookies; i++) {
        FUZZ_ASSERT(ctx.cookies[i].key[0] != '\0');
        FUZZ_ASSERT(strlen(ctx.cookies[i].key) + strlen(ctx.cookies[i].value) <= strlen(header));
    }
    const char *sid = portail_req_cookie(&ctx, PORTAIL_SESSION_COOKIE);
    if (sid != NULL) {
        unsigned char hash[PORTAIL_SECRET_HASH];
        if (portail_secret_hash(sid, hash) == 0)
            FUZZ_ASSERT(strlen(sid) == PORTAIL_SECRET_CHARS);
    }
    return 0;
}
