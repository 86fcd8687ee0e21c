/* Its init always fails: the host must refuse to start and say why. */
#include <portail/portail.h>
#include <stdio.h>

static void nothing(portail_ctx_t *ctx)
{
    portail_respond_empty(ctx, 204);
}

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/failinit",
     .handler = nothing,
     .auth = PORTAIL_AUTH_PUBLIC},
    {0},
};

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    (void)s;
    (void)state;
    snprintf(err, errlen, "the key file is missing (on purpose)");
    return -1;
}

PORTAIL_MODULE_INIT(.name = "failinit", .version = "1.0.0", .init = init, .routes = routes);
