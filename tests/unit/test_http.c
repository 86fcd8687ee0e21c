/* The answers' JSON writer (core/http.c): the same bytes as jansson's
 * json_dumps(JSON_COMPACT | JSON_ENCODE_ANY), which it replaced for speed,
 * on values of every kind and on pseudo-random ones. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static portail_conf_t conf;
static portail_host_t host;
static portail_ctx_t ctx;

static void setup(void)
{
    unit_ctx_init(&ctx, &host, &conf);
}

static void teardown(void)
{
    portail_arena_free(ctx.arena);
}

/* Checks that the answer to v is jansson's text of v (v is consumed). */
static void same_as_jansson(json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    ck_assert_ptr_nonnull(want);
    ctx.status = 0;
    portail_respond_json(&ctx, 200, v);
    ck_assert_int_eq(ctx.status, 200);
    ck_assert_uint_eq(ctx.resp_len, strlen(want));
    ck_assert_msg(memcmp(ctx.resp_body, want, ctx.resp_len) == 0, "got %.*s, want %s",
                  (int)ctx.resp_len, (const char *)ctx.resp_body, want);
    free(want);
}

START_TEST(scalars_and_containers)
{
    same_as_jansson(json_null());
    same_as_jansson(json_true());
    same_as_jansson(json_false());
    same_as_jansson(json_integer(0));
    same_as_jansson(json_integer(-7));
    same_as_jansson(json_integer(LLONG_MAX));
    same_as_jansson(json_integer(LLONG_MIN));
    same_as_jansson(json_real(0.1));
    same_as_jansson(json_real(-1e300));
    same_as_jansson(json_real(12.0));
    same_as_jansson(json_string(""));
    same_as_jansson(json_object());
    same_as_jansson(json_array());
    same_as_jansson(json_pack("{s:[], s:{}, s:[{}, []], s:{s:{s:[i, f, n, b]}}}", "a", "b", "c",
                              "d", "e", "f", 1, 2.5, 1));
}
END_TEST

START_TEST(strings_escaped_as_jansson)
{
    same_as_jansson(json_string("quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f"));
    same_as_jansson(json_string("\x01\x02\x1f\x7f end"));
    same_as_jansson(json_string("Réclamation — indemnités journalières € 𝄞 \xe2\x80\xa8"));
    same_as_jansson(json_stringn("a\0b", 3));
    same_as_jansson(json_pack("{s:s, s:i}", "clé \"x\"\n", "v", "\x01", 1));
    json_t *o = json_object();
    json_object_setn_new(o, "k\0z", 3, json_string("nul in the key"));
    same_as_jansson(o);
}
END_TEST

START_TEST(invalid_utf8_is_refused_as_jansson_does)
{
    static const char *const bad[] = {
        "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "ok \x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *s = json_stringn_nocheck(bad[i], strlen(bad[i]));
        char *j = json_dumps(s, JSON_ENCODE_ANY);
        ck_assert_ptr_null(j);
        ctx.status = 0;
        portail_respond_json(&ctx, 200, json_pack("{s:o}", "v", s));
        ck_assert_int_eq(ctx.status, 500);
    }
}
END_TEST

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static unsigned next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng >> 11);
}

static json_t *random_value(int depth)
{
    static const char *const words[] = {"", "a", "é", "\"", "\\", "\n", "\x01", "€uro", "/", " "};
    switch (depth > 4 ? next() % 5 : next() % 7) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(next() % 2);
    case 2:
        return json_integer((json_int_t)next() * (next() % 2 ? 1 : -1) * 977);
    case 3:
        return json_real((double)next() / 7.0);
    case 4: {
        char buf[64] = "";
        for (unsigned n = next() % 6; n; n--)
            strcat(buf, words[next() % 10]);
        return json_string(buf);
    }
    case 5: {
        json_t *a = json_array();
        for (unsigned n = next() % 5; n; n--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (unsigned n = next() % 5; n; n--) {
            char key[32];
            snprintf(key, sizeof key, "%s%u", words[next() % 10], next() % 100);
            json_object_set_new(o, key, random_value(depth + 1));
        }
        return o;
    }
    }
}

START_TEST(random_values)
{
    for (int i = 0; i < 2000; i++) {
        same_as_jansson(random_value(0));
        portail_arena_reset(ctx.arena);
    }
}
END_TEST

Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, scalars_and_containers);
    tcase_add_test(tc, strings_escaped_as_jansson);
    tcase_add_test(tc, invalid_utf8_is_refused_as_jansson_does);
    tcase_add_test(tc, random_values);
    suite_add_tcase(s, tc);
    return s;
}
