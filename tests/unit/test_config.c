#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

static char path[64];

static void write_conf(const char *text)
{
    strcpy(path, "/tmp/portail-unit-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
}

static int load(const char *text, char *err, size_t errlen)
{
    write_conf(text);
    portail_conf_t c;
    int rc = portail_conf_load(&c, path, err, errlen);
    portail_conf_free(&c);
    unlink(path);
    return rc;
}

START_TEST(example_file_loads)
{
    portail_conf_t c;
    char err[512];
    ck_assert_msg(
        portail_conf_load(&c, TEST_SRCDIR "/conf/portail.conf.example", err, sizeof(err)) == 0,
        "%s", err);
    ck_assert_int_eq(c.threads, 16);
    ck_assert_int_eq(c.socket_mode, 0660);
    ck_assert_int_eq(c.session_idle_s, 1800);
    ck_assert_str_eq(c.mail_transport, "file");
    ck_assert_str_eq(c.data_dir, "/usr/local/share/portail");
    portail_conf_free(&c);
}
END_TEST

START_TEST(errors_have_file_and_line)
{
    char err[512];
    ck_assert_int_eq(
        load("server: {\n threads = 0;\n};\ndatabase: { socket = \"/x\"; };\n", err, sizeof(err)),
        -1);
    ck_assert_ptr_nonnull(strstr(err, ":2: server.threads = 0 is out of range"));
    ck_assert_int_eq(load("server: {\n  thread = 4;\n};\n", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ":2: unknown setting server.thread"));
    ck_assert_int_eq(
        load("database: { socket = \"/x\"; };\nmail: {\n transport = \"pigeon\";\n};\n", err,
             sizeof(err)),
        -1);
    ck_assert_ptr_nonnull(strstr(err, ":3: mail.transport"));
    ck_assert_int_eq(load("server: { threads = \"8\"; };\n", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "must be an integer"));
    ck_assert_int_eq(load("server: { threads = 8 \n", err, sizeof(err)), -1); /* syntax */
    ck_assert_int_eq(
        load("database: { socket = \"/x\"; };\nbogus: { a = 1; };\n", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ":2: unknown section bogus"));
    ck_assert_int_eq(load("database: { socket = \"/x\"; };\nmodules = ( { name = \"a\"; },\n"
                          " { name = \"a\"; } );\n",
                          err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "listed twice"));
    ck_assert_int_eq(
        load("database: { socket = \"/x\"; };\nmodules = ( { name = \"a\"; colour = 1; } );\n", err,
             sizeof(err)),
        -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown setting modules[].colour"));
}
END_TEST

/* The wait for a hashing slot: bounded, and the automatic queue leaves two
 * worker threads to the other routes. */
START_TEST(hash_wait_and_queue)
{
    char err[512];
    ck_assert_int_eq(load("server: { hash_wait_ms = 10001; };\ndatabase: { socket = \"/x\"; };\n",
                          err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "server.hash_wait_ms = 10001 is out of range"));
    struct {
        const char *server;
        int wait, queue;
    } cases[] = {
        {"hash_slots = 2;", 2000, 8},
        {"hash_slots = 2; threads = 8;", 2000, 4},
        {"hash_slots = 8; threads = 8;", 2000, 0},
        {"hash_slots = 1; hash_queue = 30; hash_wait_ms = 0;", 0, 30},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof text, "server: { %s };\ndatabase: { socket = \"/x\"; };\n",
                 cases[i].server);
        write_conf(text);
        portail_conf_t c;
        ck_assert_msg(portail_conf_load(&c, path, err, sizeof(err)) == 0, "%s", err);
        ck_assert_int_eq(c.hash_wait_ms, cases[i].wait);
        ck_assert_int_eq(c.hash_queue, cases[i].queue);
        portail_conf_free(&c);
        unlink(path);
    }
}
END_TEST

static const portail_setting_t schema[] = {
    {.name = "n",
     .type = PORTAIL_SETTING_INT,
     .min = 1,
     .max = 10,
     .def_int = 5,
     .def_str = NULL,
     .choices = NULL},
    {.name = "on",
     .type = PORTAIL_SETTING_BOOL,
     .min = 0,
     .max = 1,
     .def_int = 1,
     .def_str = NULL,
     .choices = NULL},
    {.name = "s",
     .type = PORTAIL_SETTING_STRING,
     .min = 1,
     .max = 3,
     .def_int = 0,
     .def_str = "abc",
     .choices = NULL},
    {0},
};

START_TEST(module_settings)
{
    write_conf("database: { socket = \"/x\"; };\nmodules = ( { name = \"m\"; settings = {\n"
               " n = 11;\n }; } );\n");
    portail_conf_t c;
    char err[512];
    ck_assert_int_eq(portail_conf_load(&c, path, err, sizeof(err)), 0);
    portail_settings_t s = {schema, c.modules[0].settings};
    ck_assert_int_eq(portail_settings_validate(&s, path, "m", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ":3: module m: settings.n = 11 is out of range"));
    portail_conf_free(&c);
    unlink(path);

    write_conf("database: { socket = \"/x\"; };\nmodules = ( { name = \"m\"; settings = { n = 7; "
               "}; } );\n");
    ck_assert_int_eq(portail_conf_load(&c, path, err, sizeof(err)), 0);
    s.group = c.modules[0].settings;
    ck_assert_int_eq(portail_settings_validate(&s, path, "m", err, sizeof(err)), 0);
    ck_assert_int_eq(portail_settings_int(&s, "n"), 7);
    ck_assert_int_eq(portail_settings_bool(&s, "on"), 1);
    ck_assert_str_eq(portail_settings_str(&s, "s"), "abc");
    portail_conf_free(&c);
    unlink(path);
}
END_TEST

START_TEST(jobs_group)
{
    portail_conf_t c;
    char err[512];
    write_conf("database: { socket = \"/x\"; };\n");
    ck_assert_int_eq(portail_conf_load(&c, path, err, sizeof(err)), 0);
    ck_assert_int_eq(c.jobs_workers, 2);
    ck_assert_int_eq(c.jobs_poll_ms, 500);
    ck_assert_int_eq(c.jobs_backoff_s, 10);
    ck_assert_int_eq(c.jobs_backoff_max_s, 3600);
    ck_assert_int_eq(c.jobs_purge_s, 300);
    ck_assert_int_eq(c.jobs_keep_days, 30);
    ck_assert_int_eq(c.mail_keep_days, 30);
    ck_assert_int_eq(c.jobs_throttle_keep_h, 24);
    portail_conf_free(&c);
    unlink(path);
    ck_assert_int_eq(
        load("database: { socket = \"/x\"; };\njobs: {\n workers = 65;\n};\n", err, sizeof(err)),
        -1);
    ck_assert_ptr_nonnull(strstr(err, ":3: jobs.workers = 65 is out of range"));
    ck_assert_int_eq(
        load("database: { socket = \"/x\"; };\njobs: { poll_ms = 5; };\n", err, sizeof(err)), -1);
    ck_assert_int_eq(load("database: { socket = \"/x\"; };\njobs: { backoff_seconds = 60; "
                          "backoff_max_seconds = 30; };\n",
                          err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "backoff_max_seconds must be at least"));
    ck_assert_int_eq(
        load("database: { socket = \"/x\"; };\njobs: { keep_jobs_days = 0; };\n", err, sizeof(err)),
        -1);
}
END_TEST

/* Where a module's migrations are: its entry's dir, else data_dir/modules/NAME. */
/* Found by fuzz/fuzz_config: libconfig's scanner calls exit() when an
 * @include names a directory ("input in flex scanner failed"), so the
 * loader refuses @include itself, with file:line like any other error. */
START_TEST(include_is_refused)
{
    char err[512];
    ck_assert_int_eq(
        load("database: { socket = \"/x\"; };\n @include \"/tmp\"\n", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ":2: @include"));
    ck_assert_int_eq(load("@include \".\"\n", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, ":1: @include"));
    ck_assert_int_eq(
        load("database: { socket = \"/x\"; };\n\t@include \"/etc/hostname\"\n", err, sizeof(err)),
        -1);
    /* Not a directive where it does not start a line. */
    ck_assert_msg(load("database: { socket = \"/x\"; }; # @include \"/tmp\"\n", err, sizeof(err)) ==
                      0,
                  "%s", err);
}
END_TEST

START_TEST(module_data_dir)
{
    write_conf("server: { data_dir = \"/srv/portail\"; };\ndatabase: { socket = \"/x\"; };\n"
               "modules = ( { name = \"a\"; }, { name = \"b\"; dir = \"/opt/b\"; } );\n");
    portail_conf_t c;
    char err[512], dir[256];
    ck_assert_int_eq(portail_conf_load(&c, path, err, sizeof(err)), 0);
    ck_assert_int_eq(portail_module_data_dir(&c, &c.modules[0], dir, sizeof(dir)), 0);
    ck_assert_str_eq(dir, "/srv/portail/modules/a");
    ck_assert_int_eq(portail_module_data_dir(&c, &c.modules[1], dir, sizeof(dir)), 0);
    ck_assert_str_eq(dir, "/opt/b");
    ck_assert_int_eq(portail_module_data_dir(&c, &c.modules[0], dir, 8), -1);
    portail_conf_free(&c);
    unlink(path);
}
END_TEST

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *t = tcase_create("core");
    tcase_add_test(t, example_file_loads);
    tcase_add_test(t, hash_wait_and_queue);
    tcase_add_test(t, errors_have_file_and_line);
    tcase_add_test(t, module_settings);
    tcase_add_test(t, jobs_group);
    tcase_add_test(t, module_data_dir);
    tcase_add_test(t, include_is_refused);
    suite_add_tcase(s, t);
    return s;
}
