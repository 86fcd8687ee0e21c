/* The password policy (core/password.c) against the dictionary that
 * script/cracklib-dict builds in the build tree, as the integration stack
 * uses it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static portail_conf_t conf;
static portail_host_t host;
static portail_ctx_t ctx;

static void setup(void)
{
    static char prefix[1024];
    snprintf(prefix, sizeof(prefix), "%s/cracklib/portail", TEST_BUILDDIR);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "'%s/script/cracklib-dict' '%s'", TEST_SRCDIR, prefix);
    ck_assert_int_eq(system(cmd), 0);
    memset(&conf, 0, sizeof(conf));
    conf.password_dict = prefix;
    conf.fund_name = "CPAM de Lutèce";
    host.conf = &conf;
    memset(&ctx, 0, sizeof(ctx));
    ctx.host = &host;
    ctx.arena = portail_arena_new(0);
    ctx.method = "TEST";
    ctx.path = "/";
}

static void teardown(void)
{
    portail_arena_free(ctx.arena);
}

/* Issue 14, item 13: about 1 in 1000 random 24-character passwords was
 * refused as "systematic" (cracklib counts every +1/-1 step between
 * neighbours, anywhere). Letters, digits, '-' and '_', as password managers
 * make them by default. xorshift: the same 5,000 passwords every run. */
START_TEST(random_passwords_pass)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789-_";
    unsigned long long s = 0x9E3779B97F4A7C15ULL;
    int refused = 0;
    char first[32] = "";
    for (int i = 0; i < 5000; i++) {
        char pw[25];
        for (int k = 0; k < 24; k++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            pw[k] = alphabet[s % (sizeof(alphabet) - 1)];
        }
        pw[24] = '\0';
        if (portail_password_problem(&ctx, pw, NULL)) {
            if (!refused++)
                memcpy(first, pw, sizeof(pw));
        }
        portail_arena_reset(ctx.arena);
    }
    ck_assert_msg(refused == 0, "%d of 5000 refused, first: %s", refused, first);
}
END_TEST

START_TEST(common_passwords_refused)
{
    static const char *const weak[] = {"P@ssw0rd1234",    "Password1234",   "Welcome12345",
                                       "Motdepasse2024!", "Portail2024!!",  "portail123456",
                                       "P0rt@il-2024-!",  "Lutece2025!!!!", "$oleil1234567",
                                       "1234Azerty!!!!",  "iloveyou2024!",  "Dragon123456"};
    for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
        const char *p = portail_password_problem(&ctx, weak[i], NULL);
        ck_assert_msg(p && strstr(p, "courant"), "%s accepted (%s)", weak[i], p ? p : "-");
    }
    static const char *const good[] = {"Tournesol-Violon-Pirogue-19",
                                       "Gazelle-Trombone-Citadelle-52",
                                       "correct horse battery staple", "Kq7#vB2m!Lr9xW"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const char *p = portail_password_problem(&ctx, good[i], NULL);
        ck_assert_msg(!p, "%s refused: %s", good[i], p);
    }
}
END_TEST

Suite *password_suite(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("policy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, random_passwords_pass);
    tcase_add_test(tc, common_passwords_refused);
    suite_add_tcase(s, tc);
    return s;
}
