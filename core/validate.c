/* Field validators: one place for the bounds of a date, an e-mail address,
 * a NIR, a phone number, a postcode and an IBAN, so that two forms of the
 * portal never accept different things for the same field. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "portail/nir.h"
#include "portail/validate.h"
#include "portail/texts.h"

#define EMAIL_MAX 254 /* RFC 5321 path limit less the brackets */
#define EMAIL_LOCAL_MAX 64
#define INPUT_MAX 256
#define IBAN_MIN 15 /* Norway, the shortest */
#define IBAN_MAX 34
#define IBAN_FR 27

static const char MSG_DATE[] = TXT_VALIDATE_DATE_INVALIDE;
static const char MSG_BIRTH[] = TXT_VALIDATE_DATE_NAISSANCE_INVALIDE;
static const char MSG_BIRTH_FUTURE[] = TXT_VALIDATE_DATE_NAISSANCE_FUTURE;
static const char MSG_BIRTH_OLD[] = TXT_VALIDATE_DATE_NAISSANCE_AVANT_1900;
static const char MSG_EMAIL[] = TXT_VALIDATE_ADRESSE_E_MAIL_INVALIDE;
static const char MSG_EMAIL_LONG[] = TXT_VALIDATE_ADRESSE_E_MAIL_TROP_LONGUE;
static const char MSG_PHONE[] = TXT_VALIDATE_TELEPHONE_INVALIDE;
static const char MSG_POSTCODE[] = TXT_VALIDATE_CODE_POSTAL_5_CHIFFRES;
static const char MSG_POSTCODE_DEPT[] = TXT_VALIDATE_CODE_POSTAL_INCONNU;
static const char MSG_IBAN[] = TXT_VALIDATE_IBAN_FORME;
static const char MSG_IBAN_FR[] = TXT_VALIDATE_IBAN_FRANCAIS_27;
static const char MSG_IBAN_KEY[] = TXT_VALIDATE_IBAN_INVALIDE;

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* 1 when s is the YYYY-MM-DD of a day that exists, years 1900 to 9999. */
static int calendar_day(const char *s, int *y, int *m, int *d)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    if (*y < 1900 || *m < 1 || *m > 12 || *d < 1)
        return 0;
    return *d <= dim[*m - 1] + (*m == 2 && leap(*y));
}

const char *portail_valid_date(portail_arena_t *a, const char *in, const char **msg)
{
    int y, m, d;
    if (!calendar_day(in, &y, &m, &d)) {
        *msg = MSG_DATE;
        return NULL;
    }
    return portail_strdup(a, in);
}

const char *portail_valid_birth_date(portail_arena_t *a, const char *in, const char **msg)
{
    int y, m, d;
    if (!in || strlen(in) != 10 || in[0] < '0' || in[0] > '9') {
        *msg = MSG_BIRTH;
        return NULL;
    }
    if (strncmp(in, "1900", 4) < 0 && in[4] == '-') {
        *msg = MSG_BIRTH_OLD;
        return NULL;
    }
    if (!calendar_day(in, &y, &m, &d)) {
        *msg = MSG_BIRTH;
        return NULL;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char today[16];
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    if (strcmp(in, today) > 0) { /* same shape: the text order is the date order */
        *msg = MSG_BIRTH_FUTURE;
        return NULL;
    }
    return portail_strdup(a, in);
}

const char *portail_valid_email(portail_arena_t *a, const char *in, const char **msg)
{
    *msg = MSG_EMAIL;
    if (!in)
        return NULL;
    size_t n = strlen(in);
    if (n > EMAIL_MAX) {
        *msg = MSG_EMAIL_LONG;
        return NULL;
    }
    const char *at = strchr(in, '@');
    if (!at || at == in || strchr(at + 1, '@') || (size_t)(at - in) > EMAIL_LOCAL_MAX)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++)
        if (*p <= 0x20 || *p == 0x7F || strchr("<>()[],;:\\\"", *p))
            return NULL;
    /* The domain: labels separated by single dots, at least two of them. */
    const char *dom = at + 1;
    size_t dn = strlen(dom);
    if (dn < 3 || !strchr(dom, '.') || dom[0] == '.' || dom[dn - 1] == '.' || strstr(dom, "..") ||
        in[0] == '.' || at[-1] == '.')
        return NULL;
    char *out = portail_strdup(a, in);
    if (!out)
        return NULL;
    /* Domains are case-insensitive (RFC 5321 2.4); local parts in theory
     * are not, so only the domain is folded. */
    for (char *p = out + (at - in) + 1; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

const char *portail_valid_nir(portail_arena_t *a, const char *in, const char **msg)
{
    char nir[16];
    *msg = NULL;
    if (!in || strlen(in) > INPUT_MAX || portail_nir_normalize(in, nir) != 0 ||
        portail_nir_check(nir, NULL, msg) != 0) {
        if (!*msg)
            portail_nir_check("", NULL, msg);
        return NULL;
    }
    return portail_strdup(a, nir);
}

const char *portail_valid_phone(portail_arena_t *a, const char *in, const char **msg)
{
    char digits[16];
    size_t n = 0;
    *msg = MSG_PHONE;
    if (!in || strlen(in) > 32)
        return NULL;
    const char *p = in;
    int intl = 0;
    if (p[0] == '+') {
        if (strncmp(p, "+33", 3) != 0)
            return NULL;
        intl = 1, p += 3;
    } else if (strncmp(p, "0033", 4) == 0) {
        intl = 1, p += 4;
    }
    for (; *p; p++) {
        if (*p == ' ' || *p == '.' || *p == '-')
            continue;
        if (*p < '0' || *p > '9' || n >= 10)
            return NULL;
        digits[n++] = *p;
    }
    digits[n] = '\0';
    if (intl) {
        /* +33 6 12 34 56 78: the national number without its leading 0;
         * "+33 (0)6" style is refused rather than guessed. */
        if (n != 9 || digits[0] == '0')
            return NULL;
        return portail_sprintf(a, "0%s", digits);
    }
    if (n != 10 || digits[0] != '0' || digits[1] == '0')
        return NULL;
    return portail_strdup(a, digits);
}

const char *portail_valid_postcode(portail_arena_t *a, const char *in, const char **msg)
{
    if (!in || strlen(in) != 5 || strspn(in, "0123456789") != 5) {
        *msg = MSG_POSTCODE;
        return NULL;
    }
    /* 01 to 95 for mainland France (Corsica kept 20), 97 for the overseas
     * departments and 98 for the overseas collectivities and Monaco. */
    int dept = (in[0] - '0') * 10 + (in[1] - '0');
    if (dept < 1 || dept == 96 || dept == 99) {
        *msg = MSG_POSTCODE_DEPT;
        return NULL;
    }
    return portail_strdup(a, in);
}

const char *portail_valid_iban(portail_arena_t *a, const char *in, const char **msg)
{
    char c[IBAN_MAX + 1];
    size_t n = 0;
    *msg = MSG_IBAN;
    if (!in || strlen(in) > 64)
        return NULL;
    for (const char *p = in; *p; p++) {
        if (*p == ' ')
            continue;
        if (!isalnum((unsigned char)*p) || n >= IBAN_MAX)
            return NULL;
        c[n++] = (char)toupper((unsigned char)*p);
    }
    c[n] = '\0';
    if (n < IBAN_MIN || !isalpha((unsigned char)c[0]) || !isalpha((unsigned char)c[1]) ||
        !isdigit((unsigned char)c[2]) || !isdigit((unsigned char)c[3]))
        return NULL;
    if (strncmp(c, "FR", 2) == 0 && n != IBAN_FR) {
        *msg = MSG_IBAN_FR;
        return NULL;
    }
    /* ISO 7064 mod 97-10 over the rearranged number (the four first
     * characters moved to the end, letters as 10..35), one digit at a
     * time so that no big integer is needed. */
    unsigned rem = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = c[(i + 4) % n];
        if (isdigit((unsigned char)ch))
            rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
    }
    if (rem != 1) {
        *msg = MSG_IBAN_KEY;
        return NULL;
    }
    return portail_strdup(a, c);
}

const char *portail_json_valid(portail_arena_t *a, json_t *obj, const char *key, int required,
                               portail_validator_t check, json_t **errors)
{
    json_t *v = json_object_get(obj, key);
    if (!required && (!v || json_is_null(v)))
        return NULL;
    const char *s = portail_json_str(obj, key, 1, INPUT_MAX, errors);
    if (!s)
        return NULL;
    /* The message slot lives in the arena: cppcheck cannot see through
     * the function pointer and takes the result for a pointer into a
     * local otherwise. */
    const char **msg = portail_calloc(a, sizeof *msg);
    if (!msg)
        return NULL;
    const char *out = check(a, s, msg);
    if (!out)
        portail_field_error(errors, key, *msg ? *msg : TXT_VALIDATE_CHAMP_INVALIDE);
    return out;
}
