/* A JSON request body: portail_body_decode as read_body hands it over
 * (jansson with duplicate keys refused), then what handlers do with it:
 * portail_json_str, portail_json_valid with every shared validator,
 * portail_problem_fields and the response written back
 * (portail_respond_json). */
#include "fuzz.h"

static const struct {
    const char *key;
    portail_validator_t check;
} fields[] = {
    {"date", portail_valid_date},   {"birth_date", portail_valid_birth_date},
    {"email", portail_valid_email}, {"nir", portail_valid_nir},
    {"phone", portail_valid_phone}, {"postcode", portail_valid_postcode},
    {"iban", portail_valid_iban},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > PORTAIL_BODY_DEFAULT)
        return 0;
    portail_arena_t *a = fuzz_arena();
    portail_ctx_t ctx;
    fuzz_ctx(&ctx, a, "PUT", "/api/v1/profile/contact");
    ctx.content_type = "application/json";
    fuzz_body(&ctx, data, size);

    if (portail_body_decode(&ctx, PORTAIL_CT_JSON, PORTAIL_BODY_DEFAULT) != 0) {
        FUZZ_ASSERT(ctx.problem != NULL && ctx.status == 400 && ctx.resp_len > 0);
        return 0;
    }
    json_t *body = portail_req_json(&ctx);
    FUZZ_ASSERT(body != NULL);
    json_t *errors = NULL;
    (void)portail_json_str(body, "label", 1, 200, &errors);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *v = portail_json_valid(a, body, fields[i].key, 0, fields[i].check, &errors);
        if (v == NULL)
            continue;
        /* A normalised value is accepted again, unchanged. */
        const char *msg = NULL;
        const char *again = fields[i].check(a, v, &msg);
        FUZZ_ASSERT(again != NULL && strcmp(again, v) == 0);
    }
    if (errors) {
        portail_problem_fields(&ctx, errors);
        FUZZ_ASSERT(ctx.status == 422 && ctx.resp_len > 0);
    }
    /* Handlers echo parts of the body back: the whole of it must dump. */
    portail_respond_json(&ctx, 200, json_incref(body));
    FUZZ_ASSERT(ctx.status == 200 && ctx.resp_len > 0);
    return 0;
}
