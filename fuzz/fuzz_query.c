/* The query string of every request: portail_parse_urlencoded (with the
 * host's limit of 64 pairs, core/host.c MAX_QUERY_PAIRS) and the lookups and
 * integer helpers handlers call on it. */
#include "fuzz.h"

static void check_utf8(const char *s)
{
    FUZZ_ASSERT(s != NULL);
    FUZZ_ASSERT(portail_utf8_valid(s, strlen(s)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    portail_arena_t *a = fuzz_arena();
    const char *qs = fuzz_cstr(a, data, size);
    portail_ctx_t ctx;
    fuzz_ctx(&ctx, a, "GET", "/api/v1/reimbursements");
    ctx.query_string = qs;

    int n = portail_parse_urlencoded(a, qs, strlen(qs), 64, &ctx.query);
    FUZZ_ASSERT(n >= -1 && n <= 64);
    if (n < 0)
        return 0;
    ctx.nquery = (size_t)n;
    for (size_t i = 0; i < ctx.nquery; i++) {
        check_utf8(ctx.query[i].key);
        check_utf8(ctx.query[i].value);
        FUZZ_ASSERT(ctx.query[i].key[0] != '\0');
    }
    json_t *errors = NULL;
    (void)portail_req_query(&ctx, "status");
    (void)portail_req_query_int(&ctx, "limit", 1, 100, 20, &errors);
    long long v = 0;
    if (portail_query_int(&ctx, "offset", 0, 1000000, 0, &v) == 0)
        FUZZ_ASSERT(v >= 0 && v <= 1000000);
    json_decref(errors);
    /* A bare value decoded as a path parameter would be (router.c). */
    (void)portail_url_decode(a, qs, strlen(qs), 0);
    return 0;
}
