/* Rows written straight to JSON (portail_jw_*, core/http.c; portail_dbrow_*,
 * core/db.c): the same bytes as the jansson path they replace on the list
 * routes — the writer against json_dumps, and each kind of column written
 * directly against the jansson value portail_db_rows makes of it. No
 * server: the columns are filled as libmariadb fills them. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "unit.h"

static portail_conf_t conf;
static portail_host_t host;
static portail_ctx_t ctx;
static portail_db_t db;

static void setup(void)
{
    unit_ctx_init(&ctx, &host, &conf);
    memset(&db, 0, sizeof db);
    db.arena = ctx.arena;
}

static void teardown(void)
{
    portail_arena_free(ctx.arena);
}

/* The writer's answer, as a string in the arena. */
static const char *answer(portail_jw_t *w)
{
    ctx.status = 0;
    portail_respond_jw(&ctx, 200, w);
    if (ctx.status != 200)
        return NULL;
    return portail_strndup(ctx.arena, ctx.resp_body, ctx.resp_len);
}

/* Writes v through the writer's calls, as a list handler would. */
static void write_value(portail_jw_t *w, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *m;
        portail_jw_open(w, '{');
        json_object_foreach((json_t *)v, k, m)
        {
            portail_jw_key(w, k);
            write_value(w, m);
        }
        portail_jw_close(w, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *m;
        portail_jw_open(w, '[');
        json_array_foreach(v, i, m)
        {
            write_value(w, m);
        }
        portail_jw_close(w, ']');
        break;
    }
    case JSON_STRING:
        portail_jw_strn(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        portail_jw_int(w, json_integer_value(v));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        portail_jw_bool(w, json_is_true(v));
        break;
    case JSON_NULL:
        portail_jw_null(w);
        break;
    default:
        portail_jw_json(w, v);
    }
}

static void writer_same_as_jansson(json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    ck_assert_ptr_nonnull(want);
    portail_jw_t *w = portail_jw_new(ctx.arena);
    write_value(w, v);
    const char *got = answer(w);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(want);
    json_decref(v);
}

START_TEST(writer_gives_jansson_bytes)
{
    writer_same_as_jansson(
        json_pack("{s:[i, s, n, b, b, f], s:{}, s:[], s:[{}, [[]], {s:{s:I}}], s:s}", "items", 1,
                  "x\n\"\\\t\x01 é € 𝄞 \xe2\x80\xa8", 1, 0, 0.1, "totals", "empty", "nested", "a",
                  "b", (json_int_t)LLONG_MIN, "clé « x »", "valeur"));
    writer_same_as_jansson(json_array());
    writer_same_as_jansson(json_integer(LLONG_MAX));
    writer_same_as_jansson(json_real(-1e300));
}
END_TEST

START_TEST(writer_failure_sticks_and_answers_500)
{
    portail_jw_t *w = portail_jw_new(ctx.arena);
    portail_jw_open(w, '{');
    portail_jw_key(w, "a");
    ck_assert_int_eq(portail_jw_strn(w, "ok \x80", 4), -1);
    ck_assert_int_eq(portail_jw_failed(w), 1);
    ck_assert_int_eq(portail_jw_close(w, '}'), -1);
    ctx.status = 0;
    portail_respond_jw(&ctx, 200, w);
    ck_assert_int_eq(ctx.status, 500);
    w = portail_jw_new(ctx.arena);
    ck_assert_int_eq(portail_jw_open(w, '('), -1);
    ck_assert_int_eq(portail_jw_failed(w), 1);
}
END_TEST

/* One column of each kind, filled as libmariadb fills its bind buffers. */
typedef struct colcase {
    MYSQL_FIELD f;
    dbi_col_t c;
    char buf[1300];
} colcase_t;

static colcase_t *col(enum enum_field_types type, const char *name)
{
    colcase_t *k = portail_calloc(ctx.arena, sizeof *k);
    k->f.type = type;
    k->f.name = (char *)name;
    k->f.charsetnr = 45; /* utf8mb4 */
    k->c.kind = dbi_classify(&k->f);
    k->c.buf = k->buf;
    return k;
}

static colcase_t *text(const char *s, size_t len)
{
    colcase_t *k = col(MYSQL_TYPE_VAR_STRING, "t");
    memcpy(k->buf, s, len);
    k->c.len = len;
    return k;
}

static colcase_t *when(enum enum_field_types type, unsigned y, unsigned mo, unsigned d, unsigned h,
                       unsigned mi, unsigned s, int neg)
{
    colcase_t *k = col(type, "w");
    k->c.v.t = (MYSQL_TIME){.year = y,
                            .month = mo,
                            .day = d,
                            .hour = h,
                            .minute = mi,
                            .second = s,
                            .neg = (my_bool)neg};
    return k;
}

/* The column written directly, or NULL when the writer refused it; the
 * jansson path must agree, value for value and failure for failure. */
static const char *both_ways(const colcase_t *k)
{
    json_t *v = dbi_col_value(&db, &k->f, &k->c);
    portail_jw_t *w = portail_jw_new(ctx.arena);
    int rc = dbi_col_write(w, &db, &k->f, &k->c);
    if (!v) {
        ck_assert_int_eq(rc, -1);
        return NULL;
    }
    ck_assert_int_eq(rc, 0);
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(v);
    const char *got = answer(w);
    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    free(want);
    return got;
}

START_TEST(columns_as_the_jansson_path)
{
    colcase_t *k = col(MYSQL_TYPE_LONG, "n");
    k->c.null = 1;
    ck_assert_str_eq(both_ways(k), "null");

    k = col(MYSQL_TYPE_LONGLONG, "n");
    k->c.v.l = -42;
    ck_assert_str_eq(both_ways(k), "-42");
    k->c.v.l = LLONG_MIN;
    ck_assert_str_eq(both_ways(k), "-9223372036854775808");
    k->f.flags |= UNSIGNED_FLAG;
    k->c.v.l = -1; /* 2^64 - 1 as libmariadb leaves it */
    ck_assert_str_eq(both_ways(k), "\"18446744073709551615\"");

    k = col(MYSQL_TYPE_NEWDECIMAL, "d");
    static const char *const decimals[] = {"12.50", "-0.10", "1234567.891", "0", "100.00"};
    for (size_t i = 0; i < sizeof decimals / sizeof *decimals; i++) {
        strcpy(k->buf, decimals[i]);
        k->c.len = strlen(decimals[i]);
        both_ways(k);
    }
    ck_assert_str_eq(both_ways(k), "100.0");

    k = col(MYSQL_TYPE_FLOAT, "f");
    k->c.v.f = 0.1f; /* the float's shortest digits, then jansson's 17 */
    ck_assert_str_eq(both_ways(k), "0.10000000000000001");
    k = col(MYSQL_TYPE_DOUBLE, "f");
    k->c.v.d = 1e-7;
    both_ways(k);

    ck_assert_str_eq(both_ways(when(MYSQL_TYPE_DATETIME, 2026, 12, 1, 3, 4, 5, 0)),
                     "\"2026-12-01T03:04:05Z\"");
    ck_assert_str_eq(both_ways(when(MYSQL_TYPE_TIMESTAMP, 1970, 1, 1, 0, 0, 0, 0)),
                     "\"1970-01-01T00:00:00Z\"");
    ck_assert_str_eq(both_ways(when(MYSQL_TYPE_DATE, 999, 2, 28, 0, 0, 0, 0)), "\"0999-02-28\"");
    ck_assert_str_eq(both_ways(when(MYSQL_TYPE_TIME, 0, 0, 1, 6, 7, 8, 1)), "\"-30:07:08\"");

    k = col(MYSQL_TYPE_BIT, "b");
    memcpy(k->buf, "\x01\x02", 2);
    k->c.len = 2;
    ck_assert_str_eq(both_ways(k), "258");
    memcpy(k->buf, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    k->c.len = 8;
    ck_assert_str_eq(both_ways(k), "\"18446744073709551615\"");

    k = col(MYSQL_TYPE_BLOB, "h");
    k->f.charsetnr = 63;
    k->c.kind = dbi_classify(&k->f);
    memcpy(k->buf, "\x00\xab\xff", 3);
    k->c.len = 3;
    ck_assert_str_eq(both_ways(k), "\"00abff\"");
    k->c.len = 600; /* beyond the writer's stack buffer: through jansson */
    both_ways(k);
}
END_TEST

START_TEST(text_columns_escaped_and_checked)
{
    static const char *const texts[] = {
        "",
        "plain",
        "quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f",
        "\x01\x02\x1f\x7f end",
        "Réclamation — indemnités journalières € 𝄞 \xe2\x80\xa8",
        "« rendez-vous » l’après-midi"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        ck_assert_ptr_nonnull(both_ways(text(texts[i], strlen(texts[i]))));
    ck_assert_str_eq(both_ways(text("a\0b", 3)), "\"a\\u0000b\"");
    static const char *const bad[] = {
        "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "ok \x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_ptr_null(both_ways(text(bad[i], strlen(bad[i]))));
}
END_TEST

/* A row of three columns as portail_db_rows_json hands it to a callback. */
START_TEST(row_fields_skip_and_typed_reads)
{
    static const char *const names[] = {"id", "start", "member_id", "subject"};
    MYSQL_FIELD f[4];
    dbi_col_t c[4];
    char subject[32] = "Carte « Vitale »";
    memset(f, 0, sizeof f);
    memset(c, 0, sizeof c);
    for (int i = 0; i < 4; i++) {
        f[i].name = (char *)names[i];
        f[i].charsetnr = 45;
    }
    f[0].type = MYSQL_TYPE_LONGLONG;
    f[1].type = MYSQL_TYPE_DATETIME;
    f[2].type = MYSQL_TYPE_LONGLONG;
    f[3].type = MYSQL_TYPE_VAR_STRING;
    for (int i = 0; i < 4; i++)
        c[i].kind = dbi_classify(&f[i]);
    c[0].v.l = 7;
    c[1].v.t = (MYSQL_TIME){.year = 2027, .month = 1, .day = 2, .hour = 9, .minute = 30};
    c[2].null = 1;
    c[3].buf = subject;
    c[3].len = strlen(subject);
    portail_dbrow_t row = {.db = &db, .f = f, .c = c, .nf = 4};

    ck_assert_int_eq(portail_dbrow_int(&row, "id", -1), 7);
    ck_assert_int_eq(portail_dbrow_int(&row, "member_id", -1), -1);
    ck_assert_int_eq(portail_dbrow_int(&row, "nope", -1), -1);
    ck_assert_int_eq(portail_dbrow_null(&row, "member_id"), 1);
    ck_assert_int_eq(portail_dbrow_null(&row, "id"), 0);
    ck_assert_str_eq(portail_dbrow_str(&row, "start"), "2027-01-02T09:30:00Z");
    ck_assert_str_eq(portail_dbrow_str(&row, "subject"), "Carte « Vitale »");
    ck_assert_ptr_null(portail_dbrow_str(&row, "member_id"));

    static const char *const skip[] = {"member_id", NULL};
    portail_jw_t *w = portail_jw_new(ctx.arena);
    portail_jw_open(w, '[');
    for (int i = 0; i < 2; i++) { /* the skip list is remembered across rows */
        portail_jw_open(w, '{');
        portail_dbrow_fields(w, &row, skip);
        portail_dbrow_field(w, &row, "at", "start");
        portail_jw_key(w, "extra");
        portail_jw_bool(w, i);
        portail_jw_close(w, '}');
    }
    portail_dbrow_object(w, &row, NULL);
    portail_jw_close(w, ']');
    ck_assert_str_eq(answer(w),
                     "[{\"id\":7,\"start\":\"2027-01-02T09:30:00Z\",\"subject\":\"Carte « Vitale "
                     "»\",\"at\":\"2027-01-02T09:30:00Z\",\"extra\":false},"
                     "{\"id\":7,\"start\":\"2027-01-02T09:30:00Z\",\"subject\":\"Carte « Vitale "
                     "»\",\"at\":\"2027-01-02T09:30:00Z\",\"extra\":true},"
                     "{\"id\":7,\"start\":\"2027-01-02T09:30:00Z\",\"member_id\":null,"
                     "\"subject\":\"Carte « Vitale »\"}]");

    /* A column the SQL does not give fails the answer rather than leaving
     * the field out. */
    w = portail_jw_new(ctx.arena);
    portail_jw_open(w, '{');
    ck_assert_int_eq(portail_dbrow_field(w, &row, "x", "missing"), -1);
    ck_assert_int_eq(portail_jw_failed(w), 1);
}
END_TEST

/* Column names are written from a text rendered once per result set;
 * one that needs escapes, and one too long for that, as jansson writes them. */
START_TEST(column_keys_as_jansson)
{
    static const char *const names[] = {"quote\"back\\slash é",
                                        "a_column_name_longer_than_forty_bytes_for_sure_x", "n"};
    MYSQL_FIELD f[3];
    dbi_col_t c[3];
    memset(f, 0, sizeof f);
    memset(c, 0, sizeof c);
    for (int i = 0; i < 3; i++) {
        f[i].name = (char *)names[i];
        f[i].type = MYSQL_TYPE_LONGLONG;
        c[i].kind = dbi_classify(&f[i]);
        c[i].v.l = i;
    }
    portail_dbrow_t row = {.db = &db, .f = f, .c = c, .nf = 3};
    json_t *o = json_object();
    for (int i = 0; i < 3; i++)
        json_object_set_new(o, names[i], json_integer(i));
    char *want = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    for (int k = 0; k < 2; k++) { /* the second row reuses the rendered keys */
        portail_jw_t *w = portail_jw_new(ctx.arena);
        portail_dbrow_object(w, &row, NULL);
        ck_assert_str_eq(answer(w), want);
    }
    free(want);
}
END_TEST

Suite *rows_suite(void)
{
    Suite *s = suite_create("rows");
    TCase *tc = tcase_create("json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, writer_gives_jansson_bytes);
    tcase_add_test(tc, writer_failure_sticks_and_answers_500);
    tcase_add_test(tc, columns_as_the_jansson_path);
    tcase_add_test(tc, text_columns_escaped_and_checked);
    tcase_add_test(tc, row_fields_skip_and_typed_reads);
    tcase_add_test(tc, column_keys_as_jansson);
    suite_add_tcase(s, tc);
    return s;
}
