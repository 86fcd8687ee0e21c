/* Route matching (core/router.c): the core's routes (added by
 * portail_host_add_core_routes) and every module's (build/fuzz/routes.txt,
 * written by fuzz/routes.py from the modules' sources). The input's first byte
 * picks the method, the rest is the request path. The path is also tried as
 * a pattern in a router of its own, where it must then match itself. */
#include <stdio.h>

#include "fuzz.h"

static portail_router_t *router;
static portail_route_t routes[512];

static void nothing(portail_ctx_t *ctx)
{
    (void)ctx;
}

static unsigned method_bits(const char *s)
{
    unsigned bits = 0;
    if (strstr(s, "GET"))
        bits |= PORTAIL_GET;
    if (strstr(s, "POST"))
        bits |= PORTAIL_POST;
    if (strstr(s, "PUT"))
        bits |= PORTAIL_PUT;
    if (strstr(s, "PATCH"))
        bits |= PORTAIL_PATCH;
    if (strstr(s, "DELETE"))
        bits |= PORTAIL_DELETE;
    return bits;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    router = portail_router_new();
    if (portail_host_add_core_routes(router, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_route: %s\n", err);
        abort();
    }
    const char *file = getenv("FUZZ_ROUTES");
    FILE *f = fopen(file ? file : FUZZ_ROUTES_FILE, "r");
    size_t n = 0;
    char line[1024];
    while (f && n < sizeof(routes) / sizeof(routes[0]) && fgets(line, sizeof line, f)) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        line[strcspn(sp + 1, "\n") + (size_t)(sp + 1 - line)] = '\0';
        routes[n] = (portail_route_t){.methods = method_bits(line),
                                      .pattern = strdup(sp + 1),
                                      .handler = nothing,
                                      .auth = PORTAIL_AUTH_MEMBER};
        if (portail_router_add(router, &routes[n], NULL, err, sizeof err) != 0) {
            fprintf(stderr, "fuzz_route: %s\n", err);
            abort();
        }
        n++;
    }
    if (f)
        fclose(f);
    fprintf(stderr, "fuzz_route: %zu module routes besides the core's\n", n);
    return 0;
}

static size_t count_params(const char *pattern)
{
    size_t n = 0;
    for (const char *p = pattern; (p = strstr(p, "/{")) != NULL; p++)
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                          "PATCH", "DELETE", "OPTIONS"};
    if (size < 1)
        return 0;
    portail_arena_t *a = fuzz_arena();
    const char *method = methods[data[0] % 7];
    const char *path = fuzz_cstr(a, data + 1, size - 1);

    portail_match_t m;
    int rc = portail_router_match(router, a, method, path, &m);
    FUZZ_ASSERT(rc == 0 || rc == 404 || rc == 405);
    if (rc == 0) {
        FUZZ_ASSERT(m.route != NULL && m.nparams == count_params(m.route->pattern));
        for (size_t i = 0; i < m.nparams; i++) {
            const char *v = m.params[i].value;
            FUZZ_ASSERT(*v != '\0' && portail_utf8_valid(v, strlen(v)));
            FUZZ_ASSERT(strchr(v, '\0') == v + strlen(v));
        }
    } else if (rc == 405) {
        FUZZ_ASSERT(m.allowed != 0);
        FUZZ_ASSERT(strlen(portail_methods_str(a, m.allowed)) > 0);
    }

    portail_router_t *own = portail_router_new();
    portail_route_t route = {
        .methods = PORTAIL_GET | PORTAIL_POST, .pattern = path, .handler = nothing};
    char err[256];
    if (portail_router_add(own, &route, NULL, err, sizeof err) == 0) {
        size_t plen = strlen(path);
        portail_match_t self;
        int src = portail_router_match(own, a, "GET", path, &self);
        /* "/items/" is refused as a path (one resource, one address). */
        if (plen <= 1 || path[plen - 1] != '/')
            FUZZ_ASSERT(src == 0 && self.route == &route);
        /* Added twice: a duplicate. */
        FUZZ_ASSERT(portail_router_add(own, &route, NULL, err, sizeof err) != 0);
        src = portail_router_match(own, a, "DELETE", path, &self);
        FUZZ_ASSERT(src == 404 || src == 405);
    }
    portail_router_free(own);
    return 0;
}
