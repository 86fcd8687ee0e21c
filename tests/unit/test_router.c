#include <string.h>

#include "unit.h"

static void h(portail_ctx_t *ctx)
{
    (void)ctx;
}

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET, .pattern = "/api/v1/items", .handler = h, .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET | PORTAIL_DELETE,
     .pattern = "/api/v1/items/{id}",
     .handler = h,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/items/new",
     .handler = h,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/items/{id}/notes/{note}",
     .handler = h,
     .auth = PORTAIL_AUTH_PUBLIC},
    {0},
};

static portail_router_t *build(void)
{
    portail_router_t *r = portail_router_new();
    char err[256];
    for (const portail_route_t *rt = routes; rt->pattern; rt++)
        ck_assert_int_eq(portail_router_add(r, rt, NULL, err, sizeof(err)), 0);
    return r;
}

START_TEST(params_and_literals)
{
    portail_router_t *r = build();
    portail_arena_t *a = portail_arena_new(0);
    portail_match_t m;
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/items/42", &m), 0);
    ck_assert_ptr_eq(m.route, &routes[1]);
    ck_assert_str_eq(portail_kv_get(m.params, m.nparams, "id", 0), "42");
    /* A literal segment wins over a param. */
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/items/new", &m), 0);
    ck_assert_ptr_eq(m.route, &routes[2]);
    /* Params are decoded after matching: %2F stays inside the id. */
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/items/a%2Fb", &m), 0);
    ck_assert_str_eq(portail_kv_get(m.params, m.nparams, "id", 0), "a/b");
    ck_assert_int_eq(portail_router_match(r, a, "POST", "/api/v1/items/7/notes/x", &m), 0);
    ck_assert_str_eq(portail_kv_get(m.params, m.nparams, "note", 0), "x");
    ck_assert_int_eq(portail_router_match(r, a, "HEAD", "/api/v1/items", &m), 0);
    portail_arena_free(a);
    portail_router_free(r);
}
END_TEST

/* The index by third segment: a route whose third segment is a param is
 * found beside those of the path's own bucket, every route that matches
 * counts for 405's Allow, and between two as specific the first added wins. */
static const portail_route_t spread[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/{kind}/x",
     .handler = h,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/items/{id}",
     .handler = h,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/items/{id}",
     .handler = h,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/{v}/items/x",
     .handler = h,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_PUT, .pattern = "/api/v1", .handler = h, .auth = PORTAIL_AUTH_PUBLIC},
    {0},
};

START_TEST(index_by_third_segment)
{
    portail_router_t *r = portail_router_new();
    char err[256];
    for (const portail_route_t *rt = spread; rt->pattern; rt++)
        ck_assert_int_eq(portail_router_add(r, rt, NULL, err, sizeof(err)), 0);
    portail_arena_t *a = portail_arena_new(0);
    portail_match_t m;
    /* /api/v1/{kind}/x (added first, in the rest) ties /api/v1/items/{id}
     * and /api/{v}/items/x (two literals each): the first added wins. */
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/items/x", &m), 0);
    ck_assert_ptr_eq(m.route, &spread[0]);
    ck_assert_uint_eq(m.allowed, PORTAIL_GET | PORTAIL_POST);
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/items/7", &m), 0);
    ck_assert_ptr_eq(m.route, &spread[2]);
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/other/x", &m), 0);
    ck_assert_ptr_eq(m.route, &spread[0]);
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v2/items/x", &m), 0);
    ck_assert_ptr_eq(m.route, &spread[3]);
    ck_assert_int_eq(portail_router_match(r, a, "PUT", "/api/v1", &m), 0);
    ck_assert_ptr_eq(m.route, &spread[4]);
    ck_assert_int_eq(portail_router_match(r, a, "DELETE", "/api/v1/items/7", &m), 405);
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/other/y", &m), 404);
    portail_arena_free(a);
    portail_router_free(r);
}
END_TEST

START_TEST(not_found_and_not_allowed)
{
    portail_router_t *r = build();
    portail_arena_t *a = portail_arena_new(0);
    portail_match_t m;
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/nothing", &m), 404);
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/items/", &m), 404);
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/items/1/2", &m), 404);
    ck_assert_int_eq(portail_router_match(r, a, "POST", "/api/v1/items/42", &m), 405);
    ck_assert_str_eq(portail_methods_str(a, m.allowed), "GET, HEAD, DELETE");
    ck_assert_int_eq(portail_router_match(r, a, "BREW", "/api/v1/items", &m), 405);
    ck_assert_int_eq(portail_router_match(r, a, "GET", "/api/v1/items/%zz", &m), 404);
    portail_arena_free(a);
    portail_router_free(r);
}
END_TEST

START_TEST(duplicates_and_bad_patterns)
{
    portail_router_t *r = build();
    char err[256];
    portail_route_t dup = {.methods = PORTAIL_DELETE,
                           .pattern = "/api/v1/items/{other}",
                           .handler = h,
                           .auth = PORTAIL_AUTH_PUBLIC};
    ck_assert_int_eq(portail_router_add(r, &dup, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "duplicate route"));
    portail_route_t ok = {.methods = PORTAIL_POST,
                          .pattern = "/api/v1/items/{id}",
                          .handler = h,
                          .auth = PORTAIL_AUTH_PUBLIC};
    ck_assert_int_eq(portail_router_add(r, &ok, NULL, err, sizeof(err)), 0);
    portail_route_t bad = {
        .methods = PORTAIL_GET, .pattern = "api/v1/x", .handler = h, .auth = PORTAIL_AUTH_PUBLIC};
    ck_assert_int_eq(portail_router_add(r, &bad, NULL, err, sizeof(err)), -1);
    portail_route_t bad2 = {.methods = PORTAIL_GET,
                            .pattern = "/api/v1/x y",
                            .handler = h,
                            .auth = PORTAIL_AUTH_PUBLIC};
    ck_assert_int_eq(portail_router_add(r, &bad2, NULL, err, sizeof(err)), -1);
    portail_router_free(r);
}
END_TEST

Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *t = tcase_create("core");
    tcase_add_test(t, params_and_literals);
    tcase_add_test(t, not_found_and_not_allowed);
    tcase_add_test(t, index_by_third_segment);
    tcase_add_test(t, duplicates_and_bad_patterns);
    suite_add_tcase(s, t);
    return s;
}
