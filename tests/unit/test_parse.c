/* Request parsing: percent-decoding, forms, cookies, media types, header
 * parameters and multipart bodies, with the malformed and over-limit inputs
 * a hostile client would send. */
#include <stdio.h>
#include <string.h>

#include "unit.h"

static portail_arena_t *arena;

static void setup(void)
{
    arena = portail_arena_new(4096);
}

static void teardown(void)
{
    portail_arena_free(arena);
    arena = NULL;
}

static char *dec(const char *s, int form)
{
    return portail_url_decode(arena, s, strlen(s), form);
}

/* ---- url_decode ---------------------------------------------------------- */

START_TEST(url_decode_escapes)
{
    ck_assert_str_eq(dec("a%20b", 0), "a b");
    ck_assert_str_eq(dec("%41%6a%6A%7e", 0), "Ajj~");
    ck_assert_str_eq(dec("%C3%A9l%C3%A9onore", 0), "éléonore");
    ck_assert_str_eq(dec("", 0), "");
    ck_assert_str_eq(dec("plain", 1), "plain");
    /* Decoded once only: %2541 is "%41", not "A". */
    ck_assert_str_eq(dec("%2541", 0), "%41");
    /* Bounded by len, not by the NUL. */
    char *s = portail_url_decode(arena, "abcdef", 3, 0);
    ck_assert_str_eq(s, "abc");
    ck_assert_ptr_nonnull(portail_url_decode(arena, NULL, 0, 1));
}
END_TEST

START_TEST(url_decode_plus)
{
    ck_assert_str_eq(dec("a+b", 1), "a b");
    ck_assert_str_eq(dec("a+b", 0), "a+b");
    ck_assert_str_eq(dec("%2B", 1), "+");
    ck_assert_str_eq(dec("%2b+%2B", 1), "+ +");
}
END_TEST

START_TEST(url_decode_bad)
{
    const char *bad[] = {"%G1",   "%1G", "%4",  "%",   "a%",     "ab%zz",     "%%",
                         "a%00b", "%00", "%FF", "%C3", "%C0%AF", "%ED%A0%80", "caf%E9+x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(dec(bad[i], 1) == NULL, "accepted %s", bad[i]);
    /* A raw NUL inside the given length is refused like an encoded one. */
    ck_assert_ptr_null(portail_url_decode(arena, "a\0b", 3, 0));
    /* Truncation by len makes a valid escape invalid. */
    ck_assert_ptr_null(portail_url_decode(arena, "x%41", 3, 0));
}
END_TEST

/* ---- urlencoded ---------------------------------------------------------- */

static int form(const char *s, size_t max, portail_kv_t **kv)
{
    return portail_parse_urlencoded(arena, s, s ? strlen(s) : 0, max, kv);
}

START_TEST(urlencoded_basic)
{
    portail_kv_t *kv = NULL;
    ck_assert_int_eq(form("a=1&b=2", 10, &kv), 2);
    ck_assert_str_eq(kv[0].key, "a");
    ck_assert_str_eq(kv[0].value, "1");
    ck_assert_str_eq(kv[1].key, "b");
    ck_assert_str_eq(kv[1].value, "2");

    ck_assert_int_eq(form("nom=Lef%C3%A8vre&pr%C3%A9nom=Fran%C3%A7ois+Xavier&x=a=b", 10, &kv), 3);
    ck_assert_str_eq(portail_kv_get(kv, 3, "nom", 0), "Lefèvre");
    ck_assert_str_eq(portail_kv_get(kv, 3, "prénom", 0), "François Xavier");
    ck_assert_str_eq(portail_kv_get(kv, 3, "x", 0), "a=b");
}
END_TEST

START_TEST(urlencoded_empty_segments)
{
    portail_kv_t *kv = (portail_kv_t *)1;
    ck_assert_int_eq(form("", 10, &kv), 0);
    ck_assert_ptr_null(kv);
    kv = (portail_kv_t *)1;
    ck_assert_int_eq(form(NULL, 10, &kv), 0);
    ck_assert_ptr_null(kv);
    ck_assert_int_eq(form("&&&", 0, &kv), 0);
    ck_assert_ptr_null(kv);

    ck_assert_int_eq(form("&a=1&&b=&c&", 10, &kv), 3);
    ck_assert_str_eq(kv[0].value, "1");
    ck_assert_str_eq(kv[1].key, "b");
    ck_assert_str_eq(kv[1].value, "");
    ck_assert_str_eq(kv[2].key, "c");
    ck_assert_str_eq(kv[2].value, "");

    /* Bounded by len. */
    ck_assert_int_eq(portail_parse_urlencoded(arena, "a=1&b=2", 3, 10, &kv), 1);
    ck_assert_str_eq(kv[0].value, "1");
}
END_TEST

START_TEST(urlencoded_malformed)
{
    portail_kv_t *kv;
    ck_assert_int_eq(form("a=%ZZ", 10, &kv), -1);
    ck_assert_int_eq(form("a%4=1", 10, &kv), -1);
    ck_assert_int_eq(form("a=1&b=%00", 10, &kv), -1);
    ck_assert_int_eq(form("=v", 10, &kv), -1);
    ck_assert_int_eq(form("a=1&=", 10, &kv), -1);
}
END_TEST

START_TEST(urlencoded_max)
{
    portail_kv_t *kv;
    ck_assert_int_eq(form("a=1&b=2&c=3", 3, &kv), 3);
    ck_assert_int_eq(form("a=1&b=2&c=3", 2, &kv), -1);
    ck_assert_int_eq(form("a=1", 0, &kv), -1);
    /* Empty segments do not count. */
    ck_assert_int_eq(form("a=1&&&&b=2", 2, &kv), 2);

    char big[4096];
    size_t o = 0;
    for (int i = 0; i < 500; i++)
        o += (size_t)snprintf(big + o, sizeof(big) - o, "k%d=v&", i);
    ck_assert_int_eq(form(big, 499, &kv), -1);
    ck_assert_int_eq(form(big, 500, &kv), 500);
    ck_assert_str_eq(kv[499].key, "k499");
}
END_TEST

/* ---- cookies ------------------------------------------------------------- */

START_TEST(cookies_basic)
{
    portail_kv_t *kv = NULL;
    ck_assert_int_eq(portail_parse_cookies(arena, "a=1; b=2", 10, &kv), 2);
    ck_assert_str_eq(kv[0].key, "a");
    ck_assert_str_eq(kv[0].value, "1");
    ck_assert_str_eq(kv[1].key, "b");
    ck_assert_str_eq(kv[1].value, "2");

    ck_assert_int_eq(portail_parse_cookies(arena, "__Host-portail_session=abc%2Fdef", 10, &kv), 1);
    /* Cookie values are not decoded. */
    ck_assert_str_eq(portail_kv_get(kv, 1, PORTAIL_SESSION_COOKIE, 0), "abc%2Fdef");
}
END_TEST

START_TEST(cookies_trim_quotes_malformed)
{
    portail_kv_t *kv = NULL;
    int n = portail_parse_cookies(
        arena, "  sid = abc ;theme=\"dark\" ; lonely; =x;;c=; t=a=b; q=\"open; e=\"\"", 10, &kv);
    ck_assert_int_eq(n, 6);
    ck_assert_str_eq(portail_kv_get(kv, 6, "sid", 0), "abc");
    ck_assert_str_eq(portail_kv_get(kv, 6, "theme", 0), "dark");
    ck_assert_str_eq(portail_kv_get(kv, 6, "c", 0), "");
    ck_assert_str_eq(portail_kv_get(kv, 6, "t", 0), "a=b");
    ck_assert_str_eq(portail_kv_get(kv, 6, "q", 0), "\"open");
    ck_assert_str_eq(portail_kv_get(kv, 6, "e", 0), "");
    ck_assert_ptr_null(portail_kv_get(kv, 6, "lonely", 0));

    kv = (portail_kv_t *)1;
    ck_assert_int_eq(portail_parse_cookies(arena, "", 10, &kv), 0);
    ck_assert_ptr_null(kv);
    ck_assert_int_eq(portail_parse_cookies(arena, NULL, 10, &kv), 0);
    ck_assert_int_eq(portail_parse_cookies(arena, " ; ; novalue", 10, &kv), 0);
    ck_assert_ptr_null(kv);
}
END_TEST

START_TEST(cookies_limit)
{
    portail_kv_t *kv;
    ck_assert_int_eq(portail_parse_cookies(arena, "a=1; b=2; c=3", 3, &kv), 3);
    ck_assert_int_eq(portail_parse_cookies(arena, "a=1; b=2; c=3", 2, &kv), -1);
    /* Malformed pairs do not count against the limit. */
    ck_assert_int_eq(portail_parse_cookies(arena, "a=1; x; y; b=2", 2, &kv), 2);
    ck_assert_int_eq(portail_parse_cookies(arena, "a=1", 0, &kv), -1);
}
END_TEST

/* ---- media types, header parameters, kv ---------------------------------- */

START_TEST(media_type)
{
    ck_assert_int_eq(portail_media_type_is("application/json", "application/json"), 1);
    ck_assert_int_eq(portail_media_type_is("application/json; charset=utf-8", "application/json"),
                     1);
    ck_assert_int_eq(portail_media_type_is("  Application/JSON  ;x=y", "application/json"), 1);
    ck_assert_int_eq(portail_media_type_is("application/jsonx", "application/json"), 0);
    ck_assert_int_eq(portail_media_type_is("application/json", "application/js"), 0);
    ck_assert_int_eq(portail_media_type_is("text/plain", "application/json"), 0);
    ck_assert_int_eq(portail_media_type_is("", "application/json"), 0);
    ck_assert_int_eq(portail_media_type_is(NULL, "application/json"), 0);
}
END_TEST

START_TEST(header_param)
{
    ck_assert_str_eq(portail_header_param(arena, "multipart/form-data; boundary=abc", "boundary"),
                     "abc");
    ck_assert_str_eq(
        portail_header_param(arena, "multipart/form-data;BOUNDARY=\"a b;c\"", "boundary"), "a b;c");
    ck_assert_str_eq(portail_header_param(arena, "form-data; name=\"a\\\"b\\\\c\"", "name"),
                     "a\"b\\c");
    ck_assert_str_eq(portail_header_param(arena, "text/plain; charset = utf-8 ", "charset"),
                     "utf-8");
    ck_assert_str_eq(portail_header_param(arena, "form-data; name=\"\"", "name"), "");
    /* A parameter name that contains the wanted one does not match. */
    ck_assert_str_eq(portail_header_param(arena, "form-data; xname=1; name=2", "name"), "2");
    ck_assert_str_eq(portail_header_param(
                         arena, "form-data; filename*=UTF-8''a%C3%A9; filename=\"b\"", "filename"),
                     "b");
    /* A ';' inside a quoted value is not a separator. */
    ck_assert_str_eq(portail_header_param(arena, "form-data; name=\"x; y=1\"; y=2", "y"), "2");
    ck_assert_ptr_null(portail_header_param(arena, "form-data; name=\"x\"", "filename"));
    ck_assert_ptr_null(portail_header_param(arena, "multipart/form-data", "boundary"));
    /* The value itself is never a parameter. */
    ck_assert_ptr_null(portail_header_param(arena, "boundary=abc", "boundary"));
    ck_assert_ptr_null(portail_header_param(arena, "form-data; name=\"open", "name"));
    ck_assert_ptr_null(portail_header_param(arena, NULL, "name"));
}
END_TEST

START_TEST(kv_get)
{
    portail_kv_t kv[] = {{"Content-Type", "a"}, {"x", "1"}, {"x", "2"}};
    ck_assert_str_eq(portail_kv_get(kv, 3, "Content-Type", 0), "a");
    ck_assert_ptr_null(portail_kv_get(kv, 3, "content-type", 0));
    ck_assert_str_eq(portail_kv_get(kv, 3, "content-type", 1), "a");
    ck_assert_str_eq(portail_kv_get(kv, 3, "x", 0), "1"); /* first wins */
    ck_assert_ptr_null(portail_kv_get(kv, 1, "x", 0));    /* bounded by n */
    ck_assert_ptr_null(portail_kv_get(NULL, 0, "x", 0));
}
END_TEST

/* ---- multipart ----------------------------------------------------------- */

static const portail_multipart_limits_t LIM = {8, 1024, 512};

struct buf {
    unsigned char b[8192];
    size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
    ck_assert_uint_le(b->n + n, sizeof(b->b));
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static int mp(const char *ct, const struct buf *b, const portail_multipart_limits_t *lim,
              portail_part_t **parts, size_t *n, const char **err)
{
    return portail_parse_multipart(arena, ct, b->b, b->n, lim, parts, n, err);
}

/* Data of the file part: NULs, CRLFs, and near-misses of the delimiter. */
static const unsigned char BIN[] = "%PDF-1.4\0\r\n\r\n--XyZ-12\0\xff\xfe\r\n--XyZ-12\r\n-";

START_TEST(multipart_fields_and_file)
{
    struct buf b = {.n = 0};
    puts_(&b, "This is the preamble.\r\nIt is ignored.\r\n");
    puts_(&b, "--XyZ-123\r\n");
    puts_(&b, "Content-Disposition: form-data; name=\"nir\"\r\n\r\n");
    puts_(&b, "285033306300182\r\n");
    puts_(&b, "--XyZ-123\r\n");
    puts_(&b, "content-disposition: FORM-DATA; name=\"motif\"\r\n"
              "Content-Type: text/plain; charset=utf-8\r\n\r\n");
    puts_(&b, "Remboursement de février\r\nligne 2\r\n");
    puts_(&b, "--XyZ-123 \t\r\n"); /* transport padding */
    puts_(&b, "Content-Disposition: form-data; name=\"piece\"; filename=\"ordonnance.pdf\"\r\n"
              "Content-Type: application/pdf\r\n\r\n");
    put(&b, BIN, sizeof(BIN) - 1);
    puts_(&b, "\r\n--XyZ-123--\r\n");
    puts_(&b, "Epilogue\r\n--XyZ-123\r\nContent-Disposition: garbage\r\n");

    portail_part_t *p = NULL;
    size_t n = 0;
    const char *err = "x";
    ck_assert_int_eq(mp("multipart/form-data; boundary=XyZ-123", &b, &LIM, &p, &n, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_uint_eq(n, 3);

    ck_assert_str_eq(p[0].name, "nir");
    ck_assert_ptr_null(p[0].filename);
    ck_assert_str_eq(p[0].content_type, "text/plain");
    ck_assert_uint_eq(p[0].len, 15);
    ck_assert_int_eq(memcmp(p[0].data, "285033306300182", 15), 0);

    ck_assert_str_eq(p[1].name, "motif");
    ck_assert_str_eq(p[1].content_type, "text/plain; charset=utf-8");
    ck_assert_uint_eq(p[1].len, strlen("Remboursement de février\r\nligne 2"));
    ck_assert_int_eq(memcmp(p[1].data, "Remboursement de février\r\nligne 2", p[1].len), 0);

    ck_assert_str_eq(p[2].name, "piece");
    ck_assert_str_eq(p[2].filename, "ordonnance.pdf");
    ck_assert_str_eq(p[2].content_type, "application/pdf");
    ck_assert_uint_eq(p[2].len, sizeof(BIN) - 1);
    ck_assert_int_eq(memcmp(p[2].data, BIN, sizeof(BIN) - 1), 0);
    /* Data points into the body: no copy. */
    ck_assert(p[2].data > b.b && p[2].data < b.b + b.n);
}
END_TEST

START_TEST(multipart_quoted_boundary)
{
    struct buf b = {.n = 0};
    puts_(&b, "--a b:c=?\r\n"
              "Content-Disposition: form-data; name=\"x\"\r\n\r\n"
              "1\r\n"
              "--a b:c=?\r\n"
              "Content-Disposition: form-data; name=\"vide\"\r\n\r\n"
              "\r\n"
              "--a b:c=?--");
    portail_part_t *p;
    size_t n;
    const char *err;
    ck_assert_int_eq(
        mp("Multipart/Form-Data; charset=utf-8; boundary=\"a b:c=?\"", &b, &LIM, &p, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(p[0].len, 1);
    ck_assert_int_eq(p[0].data[0], '1');
    ck_assert_str_eq(p[1].name, "vide");
    ck_assert_uint_eq(p[1].len, 0);
}
END_TEST

START_TEST(multipart_filename_path_and_escapes)
{
    struct buf b = {.n = 0};
    puts_(&b, "--b\r\n"
              "Content-Disposition: form-data; name=\"f\"; filename=\"../../etc/passwd\"\r\n\r\n"
              "x\r\n"
              "--b\r\n"
              "Content-Disposition: form-data; name=\"a\\\"b\"; filename=\"\"\r\n\r\n"
              "y\r\n"
              "--b--\r\n");
    portail_part_t *p;
    size_t n;
    const char *err;
    ck_assert_int_eq(mp("multipart/form-data; boundary=b", &b, &LIM, &p, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(p[0].filename, "passwd");
    ck_assert_str_eq(p[1].name, "a\"b");
    ck_assert_str_eq(p[1].filename, ""); /* a file input left empty */
}
END_TEST

START_TEST(multipart_no_parts)
{
    struct buf b = {.n = 0};
    puts_(&b, "--b--\r\n");
    portail_part_t *p = (portail_part_t *)1;
    size_t n = 99;
    const char *err;
    ck_assert_int_eq(mp("multipart/form-data; boundary=b", &b, &LIM, &p, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

static void expect(const char *ct, const char *body, const portail_multipart_limits_t *lim, int rc,
                   const char *msg_part)
{
    struct buf b = {.n = 0};
    puts_(&b, body);
    portail_part_t *p;
    size_t n;
    const char *err = NULL;
    int got = mp(ct, &b, lim, &p, &n, &err);
    ck_assert_msg(got == rc, "rc %d, expected %d for %s", got, rc, body);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err, msg_part) != NULL, "message \"%s\" lacks \"%s\"", err, msg_part);
    ck_assert_uint_eq(n, 0);
}

#define CT "multipart/form-data; boundary=b"
#define CD "Content-Disposition: form-data; name=\"a\"\r\n\r\n"

START_TEST(multipart_malformed)
{
    expect(CT, "--b\r\n" CD "value", &LIM, -1, "délimiteur final absent");
    expect(CT, "--b\r\n" CD "value\r\n--b", &LIM, -1, "délimiteur final absent");
    expect(CT, "--b\r\n" CD "value\r\n--b-", &LIM, -1, "délimiteur final absent");
    expect(CT, "--b\r\n" CD "value\r\n--b\r\n", &LIM, -1, "incomplets");
    expect(CT, "--bx\r\n" CD "v\r\n--b--", &LIM, -1, "retour à la ligne absent");
    expect(CT, "--b " CD "v\r\n--b--", &LIM, -1, "retour à la ligne absent");
    expect(CT, "no delimiter at all", &LIM, -1, "délimiteur initial absent");
    expect(CT, "", &LIM, -1, "délimiteur initial absent");
    expect(CT, "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--", &LIM, -1,
           "Content-Disposition absent");
    expect(CT, "--b\r\n\r\nv\r\n--b--", &LIM, -1, "Content-Disposition absent");
    expect(CT, "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--b--", &LIM, -1,
           "Content-Disposition absent");
    expect(CT, "--b\r\nContent-Disposition: form-data; filename=\"a.pdf\"\r\n\r\nv\r\n--b--", &LIM,
           -1, "nom de champ absent");
    expect(CT, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nbad line\r\n\r\nv\r\n--b--",
           &LIM, -1, "en-tête de partie invalide");
    expect(CT,
           "--b\r\n"
           "Content-Disposition: form-data; name=\"a\"\r\n" CD "v\r\n--b--",
           &LIM, -1, "répété");
    expect(CT, "--b\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nv\r\n--b--", &LIM, -1,
           "en-tête de partie invalide");
}
END_TEST

START_TEST(multipart_boundary_param)
{
    const char *body = "--b\r\n" CD "v\r\n--b--";
    expect("multipart/form-data", body, &LIM, -1, "boundary absent");
    expect("multipart/form-data; charset=utf-8", body, &LIM, -1, "boundary absent");
    expect("multipart/form-data; boundary=", body, &LIM, -1, "délimiteur invalide");
    expect("multipart/form-data; boundary=\"\"", body, &LIM, -1, "délimiteur invalide");
    expect("multipart/form-data; boundary=\"a\r\nb\"", body, &LIM, -1, "délimiteur invalide");
    expect("multipart/form-data; boundary=\"ab \"", body, &LIM, -1, "délimiteur invalide");
    expect("application/x-www-form-urlencoded; boundary=b", body, &LIM, -1, "multipart/form-data");
    expect(NULL, body, &LIM, -1, "multipart/form-data");

    /* 70 characters is the RFC 2046 maximum; 71 is refused. */
    char ct[128], bd[256];
    char b70[71];
    memset(b70, 'z', 70);
    b70[70] = '\0';
    snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b70);
    snprintf(bd, sizeof(bd), "--%s\r\n" CD "v\r\n--%s--", b70, b70);
    struct buf b = {.n = 0};
    puts_(&b, bd);
    portail_part_t *p;
    size_t n;
    const char *err;
    ck_assert_int_eq(mp(ct, &b, &LIM, &p, &n, &err), 0);
    ck_assert_uint_eq(n, 1);
    snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%sz", b70);
    expect(ct, bd, &LIM, -1, "délimiteur invalide");
}
END_TEST

START_TEST(multipart_part_size)
{
    portail_multipart_limits_t lim = {8, 4, 512};
    struct buf b = {.n = 0};
    puts_(&b, "--b\r\n" CD "1234\r\n--b--");
    portail_part_t *p;
    size_t n;
    const char *err;
    ck_assert_int_eq(mp(CT, &b, &lim, &p, &n, &err), 0);
    ck_assert_uint_eq(p[0].len, 4);
    expect(CT, "--b\r\n" CD "12345\r\n--b--", &lim, -2, "partie trop volumineuse");
    /* The first part fits, the second does not. */
    expect(CT, "--b\r\n" CD "1\r\n--b\r\n" CD "123456789\r\n--b--", &lim, -2,
           "partie trop volumineuse");
}
END_TEST

START_TEST(multipart_too_many_parts)
{
    portail_multipart_limits_t lim = {2, 1024, 512};
    struct buf b = {.n = 0};
    puts_(&b, "--b\r\n" CD "1\r\n--b\r\n" CD "2\r\n--b--");
    portail_part_t *p;
    size_t n;
    const char *err;
    ck_assert_int_eq(mp(CT, &b, &lim, &p, &n, &err), 0);
    ck_assert_uint_eq(n, 2);
    expect(CT, "--b\r\n" CD "1\r\n--b\r\n" CD "2\r\n--b\r\n" CD "3\r\n--b--", &lim, -2,
           "trop de parties");
    portail_multipart_limits_t none = {0, 1024, 512};
    expect(CT, "--b\r\n" CD "1\r\n--b--", &none, -2, "trop de parties");

    /* Many parts: the part array grows past its first allocation. */
    portail_multipart_limits_t many = {100, 1024, 512};
    struct buf big = {.n = 0};
    for (int i = 0; i < 40; i++) {
        char part[96];
        snprintf(part, sizeof(part),
                 "--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n%d\r\n", i, i);
        puts_(&big, part);
    }
    puts_(&big, "--b--");
    ck_assert_int_eq(mp(CT, &big, &many, &p, &n, &err), 0);
    ck_assert_uint_eq(n, 40);
    ck_assert_str_eq(p[39].name, "f39");
    ck_assert_int_eq(memcmp(p[39].data, "39", 2), 0);
    ck_assert_str_eq(p[0].name, "f0");
}
END_TEST

START_TEST(multipart_header_block_size)
{
    /* CD's header line is 40 bytes; the CRLF CRLF ending the block is not
     * counted. */
    portail_multipart_limits_t exact = {8, 1024, 40};
    portail_multipart_limits_t small = {8, 1024, 39};
    struct buf b = {.n = 0};
    puts_(&b, "--b\r\n" CD "v\r\n--b--");
    portail_part_t *p;
    size_t n;
    const char *err;
    ck_assert_int_eq(mp(CT, &b, &exact, &p, &n, &err), 0);
    expect(CT, "--b\r\n" CD "v\r\n--b--", &small, -2, "en-têtes de partie trop longs");

    /* No blank line at all and a long body: over the limit, not truncated. */
    char body[2048];
    int o = snprintf(body, sizeof(body), "--b\r\nContent-Disposition: form-data; name=\"a\"");
    memset(body + o, 'x', 1500);
    strcpy(body + o + 1500, "\r\n--b--");
    expect(CT, body, &LIM, -2, "en-têtes de partie trop longs");
}
END_TEST

START_TEST(path_clean)
{
    ck_assert_int_eq(portail_path_clean("/api/v1/test/hello"), 1);
    ck_assert_int_eq(portail_path_clean("/a/.../b%2Ex/.hidden/"), 1);
    ck_assert_int_eq(portail_path_clean("/api/v1/backoffice/members/..%2F..%2F../events"), 0);
    ck_assert_int_eq(portail_path_clean("/a/../b"), 0);
    ck_assert_int_eq(portail_path_clean("/a/./b"), 0);
    ck_assert_int_eq(portail_path_clean("/a/.."), 0);
    ck_assert_int_eq(portail_path_clean("/a/%2e%2E/b"), 0);
    ck_assert_int_eq(portail_path_clean("/a/.%2e"), 0);
    ck_assert_int_eq(portail_path_clean("/a%5cb"), 0);
    /* nginx on Linux does not read a raw backslash as a separator */
    ck_assert_int_eq(portail_path_clean("/a\\b"), 1);
    ck_assert_int_eq(portail_path_clean("/a%2fb"), 0);
    ck_assert_int_eq(portail_path_clean("/a%00"), 0);
    ck_assert_int_eq(portail_path_clean("/a%zz"), 0);
    ck_assert_int_eq(portail_path_clean("relative"), 0);
}
END_TEST

START_TEST(nets_parse_and_match)
{
    portail_net_t n[4];
    char bad[64];
    ck_assert_int_eq(portail_nets_parse("", n, 4, bad, sizeof bad), 0);
    ck_assert_int_eq(portail_nets_match(n, 0, "192.0.2.1"), 1);
    ck_assert_int_eq(
        portail_nets_parse("10.20.0.0/16, 2001:db8::/32 127.0.0.1", n, 4, bad, sizeof bad), 3);
    ck_assert_int_eq(portail_nets_match(n, 3, "10.20.255.1"), 1);
    ck_assert_int_eq(portail_nets_match(n, 3, "10.21.0.1"), 0);
    ck_assert_int_eq(portail_nets_match(n, 3, "2001:db8:1::5"), 1);
    ck_assert_int_eq(portail_nets_match(n, 3, "2001:db9::5"), 0);
    ck_assert_int_eq(portail_nets_match(n, 3, "127.0.0.1"), 1);
    ck_assert_int_eq(portail_nets_match(n, 3, "::ffff:10.20.1.1"), 1);
    ck_assert_int_eq(portail_nets_match(n, 3, "127.0.0.2"), 0);
    ck_assert_int_eq(portail_nets_match(n, 3, ""), 0);
    ck_assert_int_eq(portail_nets_match(n, 3, "garbage"), 0);
    ck_assert_int_eq(portail_nets_parse("10.0.0.0/33", n, 4, bad, sizeof bad), -1);
    ck_assert_str_eq(bad, "10.0.0.0/33");
    ck_assert_int_eq(portail_nets_parse("10.0.0.0/x", n, 4, bad, sizeof bad), -1);
    ck_assert_int_eq(portail_nets_parse("example.org", n, 4, bad, sizeof bad), -1);
    ck_assert_int_eq(
        portail_nets_parse("1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4 5.5.5.5", n, 4, bad, sizeof bad), -1);
}
END_TEST

Suite *parse_suite(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, url_decode_escapes);
    tcase_add_test(tc, url_decode_plus);
    tcase_add_test(tc, url_decode_bad);
    tcase_add_test(tc, urlencoded_basic);
    tcase_add_test(tc, urlencoded_empty_segments);
    tcase_add_test(tc, urlencoded_malformed);
    tcase_add_test(tc, urlencoded_max);
    tcase_add_test(tc, cookies_basic);
    tcase_add_test(tc, cookies_trim_quotes_malformed);
    tcase_add_test(tc, cookies_limit);
    tcase_add_test(tc, media_type);
    tcase_add_test(tc, header_param);
    tcase_add_test(tc, kv_get);
    tcase_add_test(tc, multipart_fields_and_file);
    tcase_add_test(tc, multipart_quoted_boundary);
    tcase_add_test(tc, multipart_filename_path_and_escapes);
    tcase_add_test(tc, multipart_no_parts);
    tcase_add_test(tc, multipart_malformed);
    tcase_add_test(tc, multipart_boundary_param);
    tcase_add_test(tc, multipart_part_size);
    tcase_add_test(tc, multipart_too_many_parts);
    tcase_add_test(tc, multipart_header_block_size);
    tcase_add_test(tc, path_clean);
    tcase_add_test(tc, nets_parse_and_match);
    suite_add_tcase(s, tc);
    return s;
}
