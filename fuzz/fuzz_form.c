/* An application/x-www-form-urlencoded body, through portail_body_decode as
 * read_body hands it over (host limit of 256 pairs), then the lookups a
 * handler makes with portail_req_form. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* read_body refuses a body over the route's cap before reading it. */
    if (size > PORTAIL_BODY_DEFAULT)
        return 0;
    portail_arena_t *a = fuzz_arena();
    portail_ctx_t ctx;
    fuzz_ctx(&ctx, a, "POST", "/api/v1/login");
    ctx.content_type = "application/x-www-form-urlencoded";
    fuzz_body(&ctx, data, size);

    if (portail_body_decode(&ctx, PORTAIL_CT_FORM, PORTAIL_BODY_DEFAULT) != 0) {
        FUZZ_ASSERT(ctx.problem != NULL && ctx.status == 400);
        return 0;
    }
    FUZZ_ASSERT(ctx.nform <= 256);
    for (size_t i = 0; i < ctx.nform; i++) {
        const char *k = ctx.form[i].key, *v = ctx.form[i].value;
        FUZZ_ASSERT(k[0] != '\0' && portail_utf8_valid(k, strlen(k)));
        FUZZ_ASSERT(portail_utf8_valid(v, strlen(v)));
        FUZZ_ASSERT(portail_req_form(&ctx, k) != NULL);
    }
    (void)portail_req_form(&ctx, "email");
    (void)portail_req_form(&ctx, "password");
    return 0;
}
