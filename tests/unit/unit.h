/* The Check suites of tests/unit/test_core, one per core subsystem. */
#ifndef PORTAIL_TESTS_UNIT_H
#define PORTAIL_TESTS_UNIT_H

#include <check.h>

#include "internal.h"

Suite *arena_suite(void);
Suite *parse_suite(void);
Suite *router_suite(void);
Suite *config_suite(void);
Suite *nir_suite(void);
Suite *validate_suite(void);
Suite *template_suite(void);
Suite *password_suite(void);
Suite *http_suite(void);
Suite *metrics_suite(void);
Suite *rows_suite(void);

#endif
