/* Module login: being written (see docs/api.md). */
#include <portail/portail.h>

static void placeholder(portail_ctx_t *ctx);

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET, .pattern = "/api/v1/login/placeholder", .handler = placeholder,
     .auth = PORTAIL_AUTH_PUBLIC},
    {0},
};

static void placeholder(portail_ctx_t *ctx)
{
    portail_problem(ctx, 404, NULL, NULL);
}

PORTAIL_MODULE_INIT(.name = "login", .version = "0.1.0", .routes = routes);
