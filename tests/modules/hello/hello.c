/* The smallest useful module, and the one docs/architecture.md walks
 * through: one setting, one public route. */
#include <portail/portail.h>
#include <stdlib.h>

static const portail_setting_t settings[] = {
    {.name = "message", .type = PORTAIL_SETTING_STRING, .min = 1, .max = 200, .def_str = "bonjour"},
    {0},
};

struct state {
    const char *message;
};

static void say_hello(portail_ctx_t *ctx);

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/hello",
     .handler = say_hello,
     .auth = PORTAIL_AUTH_PUBLIC},
    {0},
};

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct state *st = malloc(sizeof(*st));
    if (!st)
        return -1;
    st->message = portail_settings_str(s, "message");
    *state = st;
    return 0;
}

static void fini(void *state)
{
    free(state);
}

static void say_hello(portail_ctx_t *ctx)
{
    const struct state *st = portail_module_state(ctx);
    portail_respond_json(ctx, 200, json_pack("{s:s}", "message", st->message));
}

PORTAIL_MODULE_INIT(.name = "hello", .version = "1.0.0", .settings = settings, .init = init,
                    .fini = fini, .routes = routes);
