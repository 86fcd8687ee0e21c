/* NIR validation (core/nir.c, portail_valid_nir): the input is a NIR as
 * typed, optionally followed by a tab and a birth date to check it against. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    portail_arena_t *a = fuzz_arena();
    char *in = fuzz_cstr(a, data, size);
    const char *birth = NULL;
    char *tab = strchr(in, '\t');
    if (tab) {
        *tab = '\0';
        birth = tab + 1;
    }

    char norm[16];
    int rn = portail_nir_normalize(in, norm);
    FUZZ_ASSERT(rn == 0 ? strlen(norm) == 15 : norm[0] == '\0');
    const char *msg = NULL;
    const char *v = portail_valid_nir(a, in, &msg);
    /* *msg is only meaningful on a refusal. */
    FUZZ_ASSERT(v != NULL || msg != NULL);
    if (v != NULL) {
        /* Valid: normalised, keyed, and stable. */
        FUZZ_ASSERT(rn == 0 && strcmp(v, norm) == 0);
        char key[3];
        portail_nir_key(v, key);
        FUZZ_ASSERT(strlen(key) == 2 && memcmp(key, v + 13, 2) == 0);
        FUZZ_ASSERT(portail_nir_check(v, NULL, NULL) == 0);
        const char *again = portail_valid_nir(a, v, &msg);
        FUZZ_ASSERT(again != NULL && strcmp(again, v) == 0);
    }
    if (rn == 0) {
        const char *err = NULL;
        int rc = portail_nir_check(norm, birth, &err);
        FUZZ_ASSERT(rc == 0 ? err == NULL : (rc == -1 && err != NULL));
        char key[3];
        portail_nir_key(norm, key);
        FUZZ_ASSERT(strlen(key) <= 2);
    }
    if (birth) {
        const char *bm = NULL;
        (void)portail_valid_birth_date(a, birth, &bm);
    }
    return 0;
}
