/* NIR vectors: keys computed independently (97 - N mod 97, with 2A -> 19 and
 * 2B -> 18 substituted in the 13-digit number). */
#include <stdio.h>
#include <string.h>

#include "portail/nir.h"
#include "unit.h"

static const char MSG_SHAPE[] = "Le numéro de sécurité sociale comporte 15 caractères "
                                "(13 chiffres et une clé de 2 chiffres).";
static const char MSG_KEY[] = "La clé du numéro de sécurité sociale ne correspond pas.";
static const char MSG_BIRTH[] = "Le numéro de sécurité sociale ne correspond pas à la date de "
                                "naissance.";

START_TEST(key_vectors)
{
    static const struct {
        const char *nir13, *key;
    } v[] = {
        {"2850333063001", "82"}, /* the demo member, born in Bordeaux */
        {"180012A004123", "43"}, /* Ajaccio */
        {"290072B033045", "95"}, /* Bastia */
        {"1690575115017", "81"}, /* Paris 15e */
        {"7850499123456", "79"}, /* temporary number */
        {"8920112345678", "52"}, {"2690199350001", "45"}, {"1234567890123", "11"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char key[3];
        portail_nir_key(v[i].nir13, key);
        ck_assert_str_eq(key, v[i].key);
    }
}
END_TEST

START_TEST(key_bad_input)
{
    char key[3] = "xx";
    portail_nir_key("28503330630", key); /* 11 characters */
    ck_assert_str_eq(key, "");
    portail_nir_key("285033C063001", key); /* 3C is no department */
    ck_assert_str_eq(key, "");
    portail_nir_key(NULL, key);
    ck_assert_str_eq(key, "");
}
END_TEST

START_TEST(normalize_spaces_and_case)
{
    char out[16];
    ck_assert_int_eq(portail_nir_normalize("2 85 03 33 063 001 82", out), 0);
    ck_assert_str_eq(out, "285033306300182");
    ck_assert_int_eq(portail_nir_normalize("  180012a004123 43 ", out), 0);
    ck_assert_str_eq(out, "180012A00412343");
    ck_assert_int_eq(portail_nir_normalize("290072b03304595", out), 0);
    ck_assert_str_eq(out, "290072B03304595");
}
END_TEST

START_TEST(normalize_refuses)
{
    char out[16];
    const char *bad[] = {
        "",
        "28503330630018",                   /* 14 */
        "2850333063001820",                 /* 16 */
        "2-85-03-33-063-001-82",            /* only spaces are stripped */
        "2\t85033306300182",                /* tab */
        "2850333063001 8A",                 /* letter in the key */
        "28503C306300182",                  /* letter outside the department */
        "285032C06300182",                  /* 2C: not Corsica */
        "28503A306300182",                  /* A without 2 */
        "2 8 5 0 3 3 3 0 6 3 0 0 1 8 2 7 ", /* 16 digits with spaces */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(out, "junk");
        ck_assert_msg(portail_nir_normalize(bad[i], out) == -1, "accepted: %s", bad[i]);
        ck_assert_str_eq(out, "");
    }
    ck_assert_int_eq(portail_nir_normalize(NULL, out), -1);
    char longin[200];
    memset(longin, ' ', sizeof(longin) - 16);
    strcpy(longin + sizeof(longin) - 16, "285033306300182");
    ck_assert_int_eq(portail_nir_normalize(longin, out), -1); /* input bounded */
}
END_TEST

START_TEST(check_valid)
{
    const char *e = "x";
    ck_assert_int_eq(portail_nir_check("285033306300182", "1985-03-14", &e), 0);
    ck_assert_ptr_null(e);
    ck_assert_int_eq(portail_nir_check("285033306300182", NULL, &e), 0);
    ck_assert_int_eq(portail_nir_check("180012A00412343", "1980-01-02", &e), 0);
    ck_assert_int_eq(portail_nir_check("290072B03304595", "1990-07-31", &e), 0);
    ck_assert_int_eq(portail_nir_check("169057511501781", "1969-05-01", &e), 0);
    ck_assert_int_eq(portail_nir_check("785049912345679", "1985-04-20", &e), 0);
    ck_assert_int_eq(portail_nir_check("892011234567852", "1992-01-01", NULL), 0);
}
END_TEST

START_TEST(check_shape)
{
    const char *e = NULL;
    ck_assert_int_eq(portail_nir_check("2850333063001", NULL, &e), -1);
    ck_assert_str_eq(e, MSG_SHAPE);
    ck_assert_int_eq(portail_nir_check("2 85033306300182", NULL, &e), -1);
    ck_assert_str_eq(e, MSG_SHAPE);
    ck_assert_int_eq(portail_nir_check("2850333063001820", NULL, &e), -1);
    ck_assert_str_eq(e, MSG_SHAPE);
    ck_assert_int_eq(portail_nir_check(NULL, NULL, &e), -1);
    ck_assert_str_eq(e, MSG_SHAPE);
}
END_TEST

START_TEST(check_sex_digit)
{
    const char *e = NULL;
    /* Keys correct so that only the first digit is wrong. */
    char key[3], nir[16];
    const char *firsts = "034569";
    for (const char *f = firsts; *f; f++) {
        snprintf(nir, sizeof(nir), "%c850333063001", *f);
        portail_nir_key(nir, key);
        strcat(nir, key);
        ck_assert_int_eq(portail_nir_check(nir, NULL, &e), -1);
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_null(strstr(e, "clé"));
    }
}
END_TEST

START_TEST(check_bad_key)
{
    const char *e = NULL;
    ck_assert_int_eq(portail_nir_check("285033306300183", NULL, &e), -1);
    ck_assert_str_eq(e, MSG_KEY);
    /* A digit swapped in the body: the key catches it. */
    ck_assert_int_eq(portail_nir_check("285033306030182", NULL, &e), -1);
    ck_assert_str_eq(e, MSG_KEY);
    /* 2A and 2B keys differ: swapping the department letter is caught. */
    ck_assert_int_eq(portail_nir_check("180012B00412343", NULL, &e), -1);
    ck_assert_str_eq(e, MSG_KEY);
    /* Corsica before the split (department 20) has another key. */
    ck_assert_int_eq(portail_nir_check("180012000412343", NULL, &e), -1);
    ck_assert_str_eq(e, MSG_KEY);
}
END_TEST

static void with_month(const char *mm, char nir[16])
{
    char key[3];
    snprintf(nir, 16, "285%s33063001", mm);
    portail_nir_key(nir, key);
    strcat(nir, key);
}

START_TEST(check_months)
{
    const char *e = NULL;
    char nir[16];
    const char *ok[] = {"01", "12", "20", "30", "42", "50", "99"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        with_month(ok[i], nir);
        ck_assert_msg(portail_nir_check(nir, NULL, &e) == 0, "refused month %s", ok[i]);
    }
    const char *bad[] = {"00", "13", "19", "43", "49"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        with_month(bad[i], nir);
        ck_assert_msg(portail_nir_check(nir, NULL, &e) == -1, "accepted month %s", bad[i]);
        ck_assert_ptr_nonnull(strstr(e, "mois"));
    }
}
END_TEST

START_TEST(check_birth_date)
{
    const char *e = NULL;
    char nir[16];
    /* Wrong month and wrong year. */
    ck_assert_int_eq(portail_nir_check("285033306300182", "1985-04-14", &e), -1);
    ck_assert_str_eq(e, MSG_BIRTH);
    ck_assert_int_eq(portail_nir_check("285033306300182", "1986-03-14", &e), -1);
    ck_assert_str_eq(e, MSG_BIRTH);
    /* Same two digits, another century: YY is all the NIR knows. */
    ck_assert_int_eq(portail_nir_check("285033306300182", "2085-03-14", &e), 0);
    /* Unknown month (20 and above): any month of birth matches. */
    with_month("20", nir);
    ck_assert_int_eq(portail_nir_check(nir, "1985-11-30", &e), 0);
    with_month("62", nir);
    ck_assert_int_eq(portail_nir_check(nir, "1985-01-01", &e), 0);
    with_month("62", nir);
    ck_assert_int_eq(portail_nir_check(nir, "1984-01-01", &e), -1);
    ck_assert_str_eq(e, MSG_BIRTH);
    /* A malformed date is reported as such. */
    ck_assert_int_eq(portail_nir_check("285033306300182", "14/03/1985", &e), -1);
    ck_assert_ptr_nonnull(strstr(e, "date"));
    ck_assert_int_eq(portail_nir_check("285033306300182", "1985-13-14", &e), -1);
    ck_assert_int_eq(portail_nir_check("285033306300182", "1985-03-14T00", &e), -1);
}
END_TEST

Suite *nir_suite(void)
{
    Suite *s = suite_create("nir");
    TCase *tc = tcase_create("nir");
    tcase_add_test(tc, key_vectors);
    tcase_add_test(tc, key_bad_input);
    tcase_add_test(tc, normalize_spaces_and_case);
    tcase_add_test(tc, normalize_refuses);
    tcase_add_test(tc, check_valid);
    tcase_add_test(tc, check_shape);
    tcase_add_test(tc, check_sex_digit);
    tcase_add_test(tc, check_bad_key);
    tcase_add_test(tc, check_months);
    tcase_add_test(tc, check_birth_date);
    suite_add_tcase(s, tc);
    return s;
}
