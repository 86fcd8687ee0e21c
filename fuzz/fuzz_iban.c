/* IBAN validation (portail_valid_iban, ISO 13616 mod 97): a valid IBAN
 * comes back compact and upper case, and is valid again unchanged. */
#include <ctype.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    portail_arena_t *a = fuzz_arena();
    const char *in = fuzz_cstr(a, data, size);
    const char *msg = NULL;
    const char *v = portail_valid_iban(a, in, &msg);
    /* *msg is only meaningful on a refusal. */
    FUZZ_ASSERT(v != NULL || msg != NULL);
    if (v == NULL)
        return 0;
    size_t n = strlen(v);
    FUZZ_ASSERT(n >= 15 && n <= 34);
    for (size_t i = 0; i < n; i++)
        FUZZ_ASSERT(isdigit((unsigned char)v[i]) || isupper((unsigned char)v[i]));
    if (v[0] == 'F' && v[1] == 'R')
        FUZZ_ASSERT(n == 27);
    const char *m2 = NULL;
    const char *again = portail_valid_iban(a, v, &m2);
    FUZZ_ASSERT(again != NULL && strcmp(again, v) == 0);
    return 0;
}
