/* The Check suites of tests/unit/test_core, one per core subsystem. */
#ifndef PORTAIL_TESTS_UNIT_H
#define PORTAIL_TESTS_UNIT_H

#include <check.h>
#include <string.h>

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

/* A request context with an empty configuration (the caller's conf may be
 * filled in afterwards) and its own arena, for the suites that call
 * handlers' helpers. */
static inline void unit_ctx_init(portail_ctx_t *ctx, portail_host_t *host, portail_conf_t *conf)
{
    memset(conf, 0, sizeof(*conf));
    host->conf = conf;
    memset(ctx, 0, sizeof(*ctx));
    ctx->host = host;
    ctx->arena = portail_arena_new(0);
    ctx->method = "TEST";
    ctx->path = "/";
}

#endif
