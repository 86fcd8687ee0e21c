/* Built against a future ABI: the host must refuse it. */
#include <portail/portail.h>

static void nothing(portail_ctx_t *ctx)
{
    portail_respond_empty(ctx, 204);
}

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/badabi",
     .handler = nothing,
     .auth = PORTAIL_AUTH_PUBLIC},
    {0},
};

__attribute__((visibility("default"))) const portail_module_t portail_module = {
    .abi_version = PORTAIL_ABI_VERSION + 1,
    .struct_size = sizeof(portail_module_t),
    .name = "badabi",
    .version = "1.0.0",
    .routes = routes,
};
