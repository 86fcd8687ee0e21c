/* NIR validation. The key is 97 minus the 13-digit number modulo 97; Corsica
 * (2A, 2B) replaces its department by 19 and 18 for that computation only,
 * which keeps the keys of people born before the 1976 split (department 20)
 * and after it distinct. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "portail/nir.h"
#include "portail/texts.h"

/* Longest input considered: a NIR written with a space between every
 * character is 29 bytes; anything much longer is not a NIR. */
#define NIR_INPUT_MAX 64

static const char MSG_SHAPE[] = TXT_NIR_LONGUEUR;
static const char MSG_SEX[] = TXT_NIR_PREMIER_CHIFFRE;
static const char MSG_MONTH[] = TXT_NIR_MOIS_INVALIDE;
static const char MSG_KEY[] = TXT_NIR_CLE_FAUSSE;
static const char MSG_BIRTH[] = TXT_NIR_DATE_NAISSANCE_DIFFERENTE;
static const char MSG_DATE[] = TXT_NIR_DATE_NAISSANCE_INVALIDE;

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The first 13 characters: digits, with 2A or 2B allowed as department. */
static int body_ok(const char *s)
{
    for (int i = 0; i < 13; i++) {
        if (s[i] == '\0')
            return 0;
        if (i == 6 && s[5] == '2' && (s[6] == 'A' || s[6] == 'B'))
            continue;
        if (!is_digit(s[i]))
            return 0;
    }
    return 1;
}

static int shape_ok(const char *s)
{
    return body_ok(s) && is_digit(s[13]) && is_digit(s[14]) && s[15] == '\0';
}

int portail_nir_normalize(const char *in, char out[16])
{
    size_t n = 0;

    out[0] = '\0';
    if (in == NULL)
        return -1;
    for (size_t i = 0; in[i] != '\0'; i++) {
        if (i >= NIR_INPUT_MAX || (n >= 15 && in[i] != ' ')) {
            out[0] = '\0';
            return -1;
        }
        if (in[i] == ' ')
            continue;
        char c = in[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        out[n++] = c;
    }
    out[n] = '\0';
    if (n != 15 || !shape_ok(out)) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

static unsigned key_of(const char *s)
{
    char digits[13];
    memcpy(digits, s, 13);
    if (s[5] == '2' && s[6] == 'A')
        memcpy(digits + 5, "19", 2);
    else if (s[5] == '2' && s[6] == 'B')
        memcpy(digits + 5, "18", 2);
    uint64_t v = 0;
    for (int i = 0; i < 13; i++)
        v = v * 10 + (uint64_t)(digits[i] - '0');
    return (unsigned)(97 - v % 97);
}

void portail_nir_key(const char *nir13, char key[3])
{
    key[0] = '\0';
    if (nir13 == NULL || !body_ok(nir13))
        return;
    unsigned k = key_of(nir13);
    key[0] = (char)('0' + k / 10);
    key[1] = (char)('0' + k % 10);
    key[2] = '\0';
}

/* Months 20 to 42 and 50 to 99 are what the registry assigns when the month
 * of birth is unknown or for pseudo-registrations; 00, 13 to 19 and 43 to 49
 * never occur. */
static int month_ok(unsigned m)
{
    return (m >= 1 && m <= 12) || (m >= 20 && m <= 42) || (m >= 50 && m <= 99);
}

static int fail(const char **field_error, const char *msg)
{
    if (field_error)
        *field_error = msg;
    return -1;
}

int portail_nir_check(const char *nir15, const char *birth_date, const char **field_error)
{
    if (field_error)
        *field_error = NULL;
    if (nir15 == NULL || strnlen(nir15, 16) != 15 || !shape_ok(nir15))
        return fail(field_error, MSG_SHAPE);
    /* 7 and 8 are temporary numbers given before registration completes. */
    if (strchr("1278", nir15[0]) == NULL)
        return fail(field_error, MSG_SEX);
    unsigned yy = (unsigned)((nir15[1] - '0') * 10 + (nir15[2] - '0'));
    unsigned mm = (unsigned)((nir15[3] - '0') * 10 + (nir15[4] - '0'));
    if (!month_ok(mm))
        return fail(field_error, MSG_MONTH);
    unsigned key = (unsigned)((nir15[13] - '0') * 10 + (nir15[14] - '0'));
    if (key != key_of(nir15))
        return fail(field_error, MSG_KEY);

    if (birth_date != NULL) {
        const char *d = birth_date;
        if (strnlen(d, 11) != 10 || d[4] != '-' || d[7] != '-')
            return fail(field_error, MSG_DATE);
        for (int i = 0; i < 10; i++)
            if (i != 4 && i != 7 && !is_digit(d[i]))
                return fail(field_error, MSG_DATE);
        unsigned by = (unsigned)((d[2] - '0') * 10 + (d[3] - '0'));
        unsigned bm = (unsigned)((d[5] - '0') * 10 + (d[6] - '0'));
        if (bm < 1 || bm > 12)
            return fail(field_error, MSG_DATE);
        if (yy != by || (mm <= 12 && mm != bm))
            return fail(field_error, MSG_BIRTH);
    }
    return 0;
}
