/* Mail templates: the repository's folder loads, variables are replaced,
 * and an unknown template or a variable nobody gave fails the render. */
#include <string.h>

#include "unit.h"

static portail_arena_t *A;

static void setup(void)
{
    char err[512];
    A = portail_arena_new(4096);
    ck_assert_msg(portail_templates_load(TEST_SRCDIR "/mail", "la caisse de Test",
                                         "https://portail.example", err, sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(portail_templates_brand("CPAM de Test", "39 99"), 0);
}

static void teardown(void)
{
    portail_templates_free();
    portail_arena_free(A);
}

START_TEST(renders_with_builtins_and_signature)
{
    const char *s, *b, *e;
    const char *const vars[] = {"minutes", "30", "link", "https://portail.example/x?token=abc",
                                NULL};
    ck_assert_int_eq(portail_mail_render(A, "register_confirm", vars, &s, &b, &e), 0);
    ck_assert_str_eq(s, "Finalisez la création de votre compte");
    ck_assert(strncmp(b, "Bonjour,\n\n", 10) == 0);
    ck_assert(strstr(b, "sur le portail de la caisse de Test.") != NULL);
    ck_assert(strstr(b, "dans les 30 minutes") != NULL);
    ck_assert(strstr(b, "https://portail.example/x?token=abc") != NULL);
    ck_assert(strstr(b, "{{") == NULL);
    /* the signature: the warning with the fund's name capitalised by
     * {{Fund_name}}, then the brand's name */
    ck_assert(strstr(b, "\nLa caisse de Test ne vous demandera jamais votre mot de passe ni un "
                        "code par courriel\u00a0:") != NULL);
    const char *tail = "merci de ne pas y répondre.\nCPAM de Test\n";
    ck_assert_str_eq(b + strlen(b) - strlen(tail), tail);
}
END_TEST

START_TEST(phone_and_origin_are_given_by_the_core)
{
    const char *s, *b, *e;
    ck_assert_int_eq(portail_mail_render(A, "register_done", NULL, &s, &b, &e), 0);
    ck_assert(strstr(b, "la caisse de Test au 39 99") != NULL);
    ck_assert(strstr(b, "https://portail.example/connexion.html") != NULL);
}
END_TEST

START_TEST(unknown_template_and_missing_variable_fail)
{
    const char *s = NULL, *b = NULL, *e = NULL;
    ck_assert_int_eq(portail_mail_render(A, "no_such_mail", NULL, &s, &b, &e), -1);
    ck_assert(e && strstr(e, "no_such_mail"));
    const char *const partial[] = {"minutes", "30", NULL};
    ck_assert_int_eq(portail_mail_render(A, "register_confirm", partial, &s, &b, &e), -1);
    ck_assert(e && strstr(e, "\"link\""));
    ck_assert(portail_templates_has("account_locked"));
    ck_assert(!portail_templates_has("signature"));
}
END_TEST

/* ASVS 5.2.5: a value is text, never a template: braces a caller passes
 * (from a member's input) come out as typed, not expanded. */
START_TEST(values_are_not_expanded)
{
    const char *s, *b, *e;
    const char *const vars[] = {"minutes", "{{phone}}", "link", "{{origin}}/{{fund_name}}", NULL};
    ck_assert_int_eq(portail_mail_render(A, "register_confirm", vars, &s, &b, &e), 0);
    ck_assert(strstr(b, "dans les {{phone}} minutes") != NULL);
    ck_assert(strstr(b, "{{origin}}/{{fund_name}}") != NULL);
}
END_TEST

/* Issue 15: the member is greeted by name when the caller (or, when
 * queued, the recipient's account) gives it; a name that is not one line of
 * text is not used. */
START_TEST(greets_by_name)
{
    const char *s, *b, *e;
    const char *const named[] = {"name", "Zoé Lefèvre", NULL};
    ck_assert_int_eq(portail_mail_render(A, "register_done", named, &s, &b, &e), 0);
    ck_assert(strncmp(b, "Bonjour Zoé Lefèvre,\n\n", strlen("Bonjour Zoé Lefèvre,\n\n")) == 0);
    const char *const forged[] = {"name", "Zoé\nBcc: x@example.org", NULL};
    ck_assert_int_eq(portail_mail_render(A, "register_done", forged, &s, &b, &e), 0);
    ck_assert(strncmp(b, "Bonjour,\n\n", 10) == 0);
    ck_assert_int_eq(portail_mail_render(A, "register_done", NULL, &s, &b, &e), 0);
    ck_assert(strncmp(b, "Bonjour,\n\n", 10) == 0);
}
END_TEST

Suite *template_suite(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, renders_with_builtins_and_signature);
    tcase_add_test(tc, phone_and_origin_are_given_by_the_core);
    tcase_add_test(tc, values_are_not_expanded);
    tcase_add_test(tc, greets_by_name);
    tcase_add_test(tc, unknown_template_and_missing_variable_fail);
    suite_add_tcase(s, tc);
    return s;
}
