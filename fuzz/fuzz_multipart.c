/* A multipart/form-data body (documents, claims, messages): the input's
 * first line is the Content-Type header value (its boundary), the rest the
 * body, through portail_body_decode as read_body hands it over, then what
 * handlers read from the parts. */
#include "fuzz.h"

#define CAP ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CAP)
        return 0;
    portail_arena_t *a = fuzz_arena();
    const uint8_t *nl = memchr(data, '\n', size < 600 ? size : 600);
    if (nl == NULL)
        return 0;
    portail_ctx_t ctx;
    fuzz_ctx(&ctx, a, "POST", "/api/v1/reimbursements/claims");
    /* copy_request keeps at most 512 bytes of the header, up to a NUL. */
    const char *ct = fuzz_cstr(a, data, (size_t)(nl - data));
    ctx.content_type = *ct ? portail_strndup(a, ct, 512) : NULL;
    size_t len = size - (size_t)(nl + 1 - data);
    fuzz_body(&ctx, nl + 1, len);

    if (portail_body_decode(&ctx, PORTAIL_CT_MULTIPART, CAP) != 0) {
        FUZZ_ASSERT(ctx.problem != NULL && (ctx.status == 400 || ctx.status == 413));
        return 0;
    }
    size_t n = 0;
    const portail_part_t *parts = portail_req_parts(&ctx, &n);
    FUZZ_ASSERT(n <= 32);
    for (size_t i = 0; i < n; i++) {
        const portail_part_t *p = &parts[i];
        /* Every part lies inside the body. */
        FUZZ_ASSERT(p->data >= ctx.body && p->len <= len);
        FUZZ_ASSERT((size_t)(p->data - ctx.body) + p->len <= len);
        FUZZ_ASSERT(p->name != NULL && p->content_type != NULL);
        FUZZ_ASSERT(portail_utf8_valid(p->name, strlen(p->name)));
        if (p->filename) {
            FUZZ_ASSERT(strchr(p->filename, '/') == NULL && strchr(p->filename, '\\') == NULL);
            FUZZ_ASSERT(portail_utf8_valid(p->filename, strlen(p->filename)));
        }
        (void)portail_req_form(&ctx, p->name);
    }
    (void)portail_header_param(a, ctx.content_type, "charset");
    return 0;
}
