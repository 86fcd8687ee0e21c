/* The configuration loader (portail_conf_load: libconfig, then every group
 * checked against its schema, networks, modules and their settings). The
 * loader takes a path, so the input goes into a memory file read through
 * /proc/self/fd. */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

static int fd = -1;

/* A module's settings group goes through the same schema check as the
 * core's groups (portail_settings_validate); this schema has one of each
 * kind, as a module declares them. */
static const char *const modes[] = {"file", "smtp", NULL};
static const portail_setting_t schema[] = {
    {.name = "limit", .type = PORTAIL_SETTING_INT, .min = 1, .max = 1000, .def_int = 20},
    {.name = "enabled_flag", .type = PORTAIL_SETTING_BOOL, .def_int = 1},
    {.name = "label", .type = PORTAIL_SETTING_STRING, .min = 0, .max = 64, .def_str = ""},
    {.name = "mode",
     .type = PORTAIL_SETTING_STRING,
     .min = 1,
     .max = 8,
     .def_str = "file",
     .choices = modes},
    {0},
};
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* portaild reads a file of a few kilobytes; libconfig's own limits are
     * not what is under test. */
    if (size > 65536)
        return 0;
    if (fd < 0) {
        fd = memfd_create("portail.conf", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();

    portail_conf_t c;
    char err[512] = "";
    int rc = portail_conf_load(&c, path, err, sizeof err);
    if (rc == 0) {
        /* What portaild relies on once the file was accepted. */
        FUZZ_ASSERT(c.listen && *c.listen && c.origin && c.data_dir && c.mail_templates);
        FUZZ_ASSERT(c.db.socket || c.db.host);
        FUZZ_ASSERT(c.threads >= 1 && c.threads <= 256);
        FUZZ_ASSERT(c.jobs_backoff_max_s >= c.jobs_backoff_s);
        for (size_t i = 0; i < c.nmodules; i++) {
            FUZZ_ASSERT(c.modules[i].name && *c.modules[i].name);
            portail_settings_t st = {.schema = schema, .group = c.modules[i].settings};
            char serr[512] = "";
            if (portail_settings_validate(&st, path, c.modules[i].name, serr, sizeof serr) == 0) {
                long long v = portail_settings_int(&st, "limit");
                FUZZ_ASSERT(v >= 1 && v <= 1000);
                FUZZ_ASSERT(portail_settings_str(&st, "mode") != NULL);
            } else {
                FUZZ_ASSERT(serr[0] != '\0');
            }
        }
    } else {
        FUZZ_ASSERT(rc == -1 && err[0] != '\0');
    }
    portail_conf_free(&c);
    return 0;
}
