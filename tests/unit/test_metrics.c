/* core/metrics.c: label escaping and the exposition of recorded requests. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static char *capture_label(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    portail_metrics_label(f, s);
    fclose(f);
    return buf;
}

START_TEST(label_escaping)
{
    char *out = capture_label("a\\b\"c\nd/{id}é");
    ck_assert_str_eq(out, "a\\\\b\\\"c\\nd/{id}é");
    free(out);
    out = capture_label("");
    ck_assert_str_eq(out, "");
    free(out);
}
END_TEST

static void noop(portail_ctx_t *ctx)
{
    (void)ctx;
}

START_TEST(exposition)
{
    static const portail_route_t route = {
        .methods = PORTAIL_GET, .pattern = "/api/v1/x/\"{id}\"", .handler = noop};
    portail_metrics_start();
    portail_metrics_record(NULL, &route, NULL, "GET", 200, 0.5);
    portail_metrics_record(NULL, &route, NULL, "GET", 200, 30);
    portail_metrics_record(NULL, &route, NULL, "GET", 299, 9000);
    portail_metrics_record(NULL, NULL, NULL, "BREW", 404, 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(portail_metrics_write(f, NULL, NULL), 0);
    fclose(f);
    const char *l = "route=\"/api/v1/x/\\\"{id}\\\"\",method=\"GET\",module=\"core\"";
    char want[512];
    snprintf(want, sizeof(want), "portail_http_requests_total{%s,status=\"200\"} 2\n", l);
    ck_assert_ptr_nonnull(strstr(buf, want));
    snprintf(want, sizeof(want), "portail_http_requests_total{%s,status=\"2xx\"} 1\n", l);
    ck_assert_ptr_nonnull(strstr(buf, want));
    snprintf(want, sizeof(want), "_bucket{%s,le=\"0.001\"} 1\n", l);
    ck_assert_ptr_nonnull(strstr(buf, want));
    snprintf(want, sizeof(want), "_bucket{%s,le=\"0.05\"} 2\n", l);
    ck_assert_ptr_nonnull(strstr(buf, want));
    snprintf(want, sizeof(want), "_bucket{%s,le=\"2.5\"} 2\n", l);
    ck_assert_ptr_nonnull(strstr(buf, want));
    snprintf(want, sizeof(want), "_bucket{%s,le=\"+Inf\"} 3\n", l);
    ck_assert_ptr_nonnull(strstr(buf, want));
    snprintf(want, sizeof(want), "_count{%s} 3\n", l);
    ck_assert_ptr_nonnull(strstr(buf, want));
    ck_assert_ptr_nonnull(strstr(buf, "{route=\"unmatched\",method=\"other\",module=\"core\","
                                      "status=\"404\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(buf, "\nportail_db_up 0\n"));
    ck_assert_ptr_null(strstr(buf, "portail_mail_outbox_backlog"));
    ck_assert(buf[len - 1] == '\n');
    free(buf);
}
END_TEST

Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, label_escaping);
    tcase_add_test(tc, exposition);
    suite_add_tcase(s, tc);
    return s;
}
