#include <jansson.h>
#include <string.h>

#include "unit.h"

static int hook_order[4];
static int hook_count;

static void hook(void *p)
{
    hook_order[hook_count++] = *(int *)p;
}

START_TEST(alloc_aligned_and_large)
{
    portail_arena_t *a = portail_arena_new(256);
    for (int i = 0; i < 100; i++) {
        void *p = portail_alloc(a, (size_t)i + 1);
        ck_assert_uint_eq((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)i + 1);
    }
    char *big = portail_alloc(a, 1 << 20); /* larger than a block */
    memset(big, 1, 1 << 20);
    ck_assert_uint_ge(portail_arena_used(a), 1 << 20);
    portail_arena_reset(a);
    ck_assert_uint_eq(portail_arena_used(a), 0);
    portail_arena_free(a);
}
END_TEST

START_TEST(strings)
{
    portail_arena_t *a = portail_arena_new(0);
    ck_assert_str_eq(portail_strdup(a, "é"), "é");
    ck_assert_ptr_null(portail_strdup(a, NULL));
    ck_assert_str_eq(portail_strndup(a, "abcdef", 3), "abc");
    ck_assert_str_eq(portail_sprintf(a, "%d-%s", 42, "x"), "42-x");
    /* Longer than the stack buffer it is first formatted into (255 bytes
     * and a NUL): formatted again in the arena, whole. */
    char big[600];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (size_t n = 250; n < 260; n++) {
        char *s = portail_sprintf(a, "<%.*s>", (int)n, big);
        ck_assert_uint_eq(strlen(s), n + 2);
        ck_assert_int_eq(s[0], '<');
        ck_assert_int_eq(s[n + 1], '>');
    }
    ck_assert_uint_eq(strlen(portail_sprintf(a, "%s", big)), sizeof big - 1);
    char *z = portail_calloc(a, 32);
    for (int i = 0; i < 32; i++)
        ck_assert_int_eq(z[i], 0);
    portail_arena_free(a);
}
END_TEST

START_TEST(cleanups_run_in_reverse_once)
{
    portail_arena_t *a = portail_arena_new(0);
    static int one = 1, two = 2;
    hook_count = 0;
    portail_arena_defer(a, hook, &one);
    portail_arena_defer(a, hook, &two);
    json_t *j = portail_arena_json(a, json_object());
    ck_assert_ptr_nonnull(j);
    portail_arena_reset(a);
    ck_assert_int_eq(hook_count, 2);
    ck_assert_int_eq(hook_order[0], 2);
    ck_assert_int_eq(hook_order[1], 1);
    portail_arena_reset(a);
    ck_assert_int_eq(hook_count, 2);
    portail_arena_free(a);
}
END_TEST

/* ASVS 8.3.6: a request's bytes (a password from its body) do not stay in
 * the arena's kept block for the next request to find. */
START_TEST(reset_wipes_what_requests_left)
{
    portail_arena_t *a = portail_arena_new(0);
    char *pw = portail_strdup(a, "Tournesol-Violon-Pirogue-19");
    char *big = portail_alloc(a, 200 * 1024); /* a block of its own, freed */
    memset(big, 'x', 200 * 1024);
    portail_arena_reset(a);
    char *again = portail_alloc(a, 32);
    ck_assert_ptr_eq(again, pw);
    for (int i = 0; i < 32; i++)
        ck_assert_int_eq(again[i], 0);
    portail_arena_free(a);
}
END_TEST

/* portaild's jansson allocator: a request's values come from its arena
 * and are not freed one by one; outside a request they are malloc'd, and
 * json_dumps's text goes back with portail_json_free either way. */
START_TEST(json_values_of_a_request_in_its_arena)
{
    portail_arena_json_setup();
    portail_arena_t *a = portail_arena_new(0);
    portail_arena_json_begin(a);
    size_t before = portail_arena_used(a);
    json_t *row = json_pack("{s:s, s:I}", "name", "Camille", "id", (json_int_t)7);
    ck_assert_ptr_nonnull(row);
    size_t used = portail_arena_used(a);
    ck_assert_uint_gt(used, before);
    char *text = json_dumps(row, JSON_COMPACT);
    ck_assert_str_eq(text, "{\"name\":\"Camille\",\"id\":7}");
    ck_assert_uint_gt(portail_arena_used(a), used);
    portail_json_free(text);
    json_decref(row);
    portail_arena_reset(a);
    /* After the reset: the heap's, the arena untouched. */
    json_t *later = json_pack("{s:s}", "k", "v");
    text = json_dumps(later, JSON_COMPACT);
    ck_assert_str_eq(text, "{\"k\":\"v\"}");
    ck_assert_uint_eq(portail_arena_used(a), 0);
    portail_json_free(text);
    json_decref(later);
    portail_arena_free(a);
}
END_TEST

Suite *arena_suite(void)
{
    Suite *s = suite_create("arena");
    TCase *t = tcase_create("core");
    tcase_add_test(t, alloc_aligned_and_large);
    tcase_add_test(t, strings);
    tcase_add_test(t, cleanups_run_in_reverse_once);
    tcase_add_test(t, reset_wipes_what_requests_left);
    tcase_add_test(t, json_values_of_a_request_in_its_arena);
    suite_add_tcase(s, t);
    return s;
}
