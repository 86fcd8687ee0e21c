/* Runs every unit suite; automake's TESTS reads the exit status. */
#include <stdlib.h>

#include "unit.h"

int main(void)
{
    SRunner *sr = srunner_create(arena_suite());
    srunner_add_suite(sr, parse_suite());
    srunner_add_suite(sr, router_suite());
    srunner_add_suite(sr, config_suite());
    srunner_add_suite(sr, nir_suite());
    srunner_add_suite(sr, validate_suite());
    srunner_add_suite(sr, template_suite());
    srunner_add_suite(sr, password_suite());
    srunner_add_suite(sr, http_suite());
    srunner_add_suite(sr, metrics_suite());
    srunner_add_suite(sr, rows_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
