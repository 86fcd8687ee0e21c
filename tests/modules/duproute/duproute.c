/* Claims a route that testmod already serves: the host must refuse to start. */
#include <portail/portail.h>

static void nothing(portail_ctx_t *ctx)
{
    portail_respond_empty(ctx, 204);
}

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/hello",
     .handler = nothing,
     .auth = PORTAIL_AUTH_PUBLIC},
    {0},
};

PORTAIL_MODULE_INIT(.name = "duproute", .version = "1.0.0", .routes = routes);
