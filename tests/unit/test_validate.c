/* The shared field validators: good and bad values of each, and the
 * normalised form they hand back. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "portail/practitioners.h"
#include "portail/validate.h"
#include "unit.h"

static portail_arena_t *A;

static void setup(void)
{
    A = portail_arena_new(4096);
}

static void teardown(void)
{
    portail_arena_free(A);
}

static void good(portail_validator_t f, const char *in, const char *want)
{
    const char *msg = NULL;
    const char *out = f(A, in, &msg);
    ck_assert_msg(out != NULL, "refused: \"%s\" (%s)", in, msg ? msg : "");
    ck_assert_str_eq(out, want);
}

static const char *bad(portail_validator_t f, const char *in)
{
    const char *msg = NULL;
    const char *out = f(A, in, &msg);
    ck_assert_msg(out == NULL, "accepted: \"%s\"", in);
    ck_assert_msg(msg && *msg, "no message for \"%s\"", in);
    return msg;
}

START_TEST(dates)
{
    good(portail_valid_date, "2024-02-29", "2024-02-29");
    good(portail_valid_date, "2000-02-29", "2000-02-29");
    good(portail_valid_date, "1900-01-01", "1900-01-01");
    good(portail_valid_date, "2031-12-31", "2031-12-31");
    bad(portail_valid_date, "2023-02-29");
    bad(portail_valid_date, "1900-02-29"); /* not a leap year */
    bad(portail_valid_date, "2024-04-31");
    bad(portail_valid_date, "2024-13-01");
    bad(portail_valid_date, "2024-00-10");
    bad(portail_valid_date, "2024-01-00");
    bad(portail_valid_date, "17/05/1980");
    bad(portail_valid_date, "1980-5-17");
    bad(portail_valid_date, "1980-05-17 ");
    bad(portail_valid_date, "");
    ck_assert(strstr(bad(portail_valid_date, "1980/05/17"), "AAAA-MM-JJ"));
}
END_TEST

START_TEST(birth_dates)
{
    good(portail_valid_birth_date, "1980-05-17", "1980-05-17");
    good(portail_valid_birth_date, "1900-01-01", "1900-01-01");
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char today[16], next_year[16];
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    tm.tm_year++;
    strftime(next_year, sizeof next_year, "%Y-01-01", &tm);
    good(portail_valid_birth_date, today, today);
    ck_assert(strstr(bad(portail_valid_birth_date, next_year), "futur"));
    ck_assert(strstr(bad(portail_valid_birth_date, "1899-12-31"), "1900"));
    ck_assert(strstr(bad(portail_valid_birth_date, "1980-02-30"), "AAAA-MM-JJ"));
    bad(portail_valid_birth_date, "17/05/1980");
}
END_TEST

START_TEST(emails)
{
    good(portail_valid_email, "Jean.Dupont@Example.FR", "Jean.Dupont@example.fr");
    good(portail_valid_email, "a+tag@mail.example.org", "a+tag@mail.example.org");
    good(portail_valid_email, "x@ab.fr", "x@ab.fr");
    char local64[80], local65[80], long_addr[300];
    memset(local64, 'a', 64), local64[64] = '\0';
    memset(local65, 'a', 65), local65[65] = '\0';
    char want[100];
    snprintf(want, sizeof want, "%s@example.fr", local64);
    good(portail_valid_email, want, want);
    snprintf(want, sizeof want, "%s@example.fr", local65);
    bad(portail_valid_email, want);
    memset(long_addr, 'b', sizeof long_addr - 1), long_addr[sizeof long_addr - 1] = '\0';
    memcpy(long_addr, "a@", 2);
    memcpy(long_addr + 250, ".fr", 4); /* 253 bytes: fits */
    ck_assert_ptr_nonnull(portail_valid_email(A, long_addr, &(const char *){NULL}));
    memset(long_addr + 250, 'b', 2), memcpy(long_addr + 252, ".fr", 4); /* 255 bytes */
    ck_assert(strstr(bad(portail_valid_email, long_addr), "trop longue"));
    bad(portail_valid_email, "pas-une-adresse");
    bad(portail_valid_email, "a@b@example.fr");
    bad(portail_valid_email, "@example.fr");
    bad(portail_valid_email, "jean@localhost");
    bad(portail_valid_email, "jean@.example.fr");
    bad(portail_valid_email, "jean@example.fr.");
    bad(portail_valid_email, "jean@example..fr");
    bad(portail_valid_email, "jean dupont@example.fr");
    bad(portail_valid_email, "jean\t@example.fr");
    bad(portail_valid_email, "<jean@example.fr>");
    bad(portail_valid_email, "");
}
END_TEST

START_TEST(nirs)
{
    good(portail_valid_nir, "2 85 03 33 063 001 82", "285033306300182");
    good(portail_valid_nir, "1 80 01 2a 004 123 43", "180012A00412343");
    ck_assert(strstr(bad(portail_valid_nir, "285033306300183"), "clé"));
    bad(portail_valid_nir, "28503330630018");
    bad(portail_valid_nir, "2-85-03");
    bad(portail_valid_nir, "");
}
END_TEST

START_TEST(phones)
{
    good(portail_valid_phone, "06 12 34 56 78", "0612345678");
    good(portail_valid_phone, "01.23.45.67.89", "0123456789");
    good(portail_valid_phone, "0912345678", "0912345678");
    good(portail_valid_phone, "+33 6 12 34 56 78", "0612345678");
    good(portail_valid_phone, "+33612345678", "0612345678");
    good(portail_valid_phone, "0033 1 23 45 67 89", "0123456789");
    bad(portail_valid_phone, "0012345678");
    bad(portail_valid_phone, "612345678");
    bad(portail_valid_phone, "06123456789");
    bad(portail_valid_phone, "06 12 34 56 7");
    bad(portail_valid_phone, "+44 20 7946 0958");
    bad(portail_valid_phone, "+33 06 12 34 56 78");
    bad(portail_valid_phone, "06 12 34 56 7a");
    bad(portail_valid_phone, "");
}
END_TEST

START_TEST(postcodes)
{
    good(portail_valid_postcode, "75015", "75015");
    good(portail_valid_postcode, "01000", "01000");
    good(portail_valid_postcode, "20000", "20000"); /* Ajaccio */
    good(portail_valid_postcode, "20200", "20200"); /* Bastia */
    good(portail_valid_postcode, "97400", "97400"); /* La Réunion */
    good(portail_valid_postcode, "98000", "98000"); /* Monaco */
    good(portail_valid_postcode, "95000", "95000");
    bad(portail_valid_postcode, "00100");
    bad(portail_valid_postcode, "96000");
    bad(portail_valid_postcode, "99000");
    bad(portail_valid_postcode, "7501");
    bad(portail_valid_postcode, "750015");
    bad(portail_valid_postcode, "75 015");
    bad(portail_valid_postcode, "2A000");
    bad(portail_valid_postcode, "");
}
END_TEST

START_TEST(ibans)
{
    good(portail_valid_iban, "FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189");
    good(portail_valid_iban, "fr7630006000011234567890189", "FR7630006000011234567890189");
    good(portail_valid_iban, "GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432");
    good(portail_valid_iban, "DE89370400440532013000", "DE89370400440532013000");
    ck_assert(strstr(bad(portail_valid_iban, "FR76 3000 6000 0112 3456 7890 188"), "RIB"));
    ck_assert(strstr(bad(portail_valid_iban, "FR76 3000 6000 0112 3456 7890 18"), "27"));
    bad(portail_valid_iban, "GB82 WEST 1234 5698 7654 33");
    bad(portail_valid_iban, "7630006000011234567890189");
    bad(portail_valid_iban, "FR76-3000-6000-0112-3456-7890-189");
    bad(portail_valid_iban, "FR76");
    bad(portail_valid_iban, "");
}
END_TEST

START_TEST(json_helper)
{
    json_t *body = json_pack("{s:s, s:s, s:i}", "email", "X@EXAMPLE.FR", "postcode", "7501",
                             "phone", 612345678);
    json_t *errors = NULL;
    const char *email = portail_json_valid(A, body, "email", 1, portail_valid_email, &errors);
    ck_assert_str_eq(email, "X@example.fr");
    ck_assert_ptr_null(errors);
    ck_assert_ptr_null(portail_json_valid(A, body, "iban", 0, portail_valid_iban, &errors));
    ck_assert_ptr_null(errors); /* optional and absent */
    ck_assert_ptr_null(portail_json_valid(A, body, "postcode", 1, portail_valid_postcode, &errors));
    ck_assert_ptr_null(portail_json_valid(A, body, "phone", 1, portail_valid_phone, &errors));
    ck_assert_ptr_null(portail_json_valid(A, body, "nir", 1, portail_valid_nir, &errors));
    ck_assert_int_eq(json_array_size(errors), 3);
    const char *fields[] = {"postcode", "phone", "nir"};
    for (size_t i = 0; i < 3; i++) {
        json_t *e = json_array_get(errors, i);
        ck_assert_str_eq(json_string_value(json_object_get(e, "field")), fields[i]);
        ck_assert(json_string_length(json_object_get(e, "message")) > 0);
    }
    json_decref(errors);
    json_decref(body);
}
END_TEST

/* RPPS: 11 digits, the last the Luhn check digit of the first ten. */
START_TEST(rpps)
{
    ck_assert_int_eq(portail_rpps_valid("10001234565"), 1);
    ck_assert_int_eq(portail_rpps_valid("10001234567"), 0);
    ck_assert_int_eq(portail_rpps_valid("1000123456"), 0);
    ck_assert_int_eq(portail_rpps_valid("100012345650"), 0);
    ck_assert_int_eq(portail_rpps_valid("1000123456a"), 0);
    ck_assert_int_eq(portail_rpps_valid(NULL), 0);
}
END_TEST

Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("validators");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dates);
    tcase_add_test(tc, birth_dates);
    tcase_add_test(tc, emails);
    tcase_add_test(tc, nirs);
    tcase_add_test(tc, phones);
    tcase_add_test(tc, postcodes);
    tcase_add_test(tc, ibans);
    tcase_add_test(tc, json_helper);
    tcase_add_test(tc, rpps);
    suite_add_tcase(s, tc);
    return s;
}
