/* The configuration file: libconfig parses, this file types and bounds every
 * setting against a schema, so that a typo or an out-of-range value stops the
 * start with file:line instead of surfacing later as odd behaviour. The same
 * schema mechanism checks each module's `settings` group. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The core's own schemas, positional for brevity. */
#define SETTING(n, t, lo, hi, di, ds, ch)                                                          \
    {                                                                                              \
        .name = (n), .type = (t), .min = (lo), .max = (hi), .def_int = (di), .def_str = (ds),      \
        .choices = (ch)                                                                            \
    }

static const char *const transports[] = {"file", "smtp", NULL};

static const portail_setting_t server_schema[] = {
    SETTING("listen", PORTAIL_SETTING_STRING, 1, 1024, 0, "var/run/portaild.sock", NULL),
    SETTING("socket_mode", PORTAIL_SETTING_STRING, 3, 4, 0, "0660", NULL),
    SETTING("threads", PORTAIL_SETTING_INT, 1, 256, 16, NULL, NULL),
    SETTING("backlog", PORTAIL_SETTING_INT, 1, 65535, 256, NULL, NULL),
    SETTING("grace_seconds", PORTAIL_SETTING_INT, 0, 600, 10, NULL, NULL),
    SETTING("log", PORTAIL_SETTING_STRING, 1, 1024, 0, "-", NULL),
    SETTING("log_buffer", PORTAIL_SETTING_BOOL, 0, 1, 1, NULL, NULL),
    SETTING("module_dir", PORTAIL_SETTING_STRING, 1, 1024, 0, PORTAIL_MODULEDIR, NULL),
    SETTING("origin", PORTAIL_SETTING_STRING, 8, 256, 0, "http://127.0.0.1:8080", NULL),
    SETTING("max_header_bytes", PORTAIL_SETTING_INT, 1024, 1048576, 16384, NULL, NULL),
    SETTING("max_cookie_bytes", PORTAIL_SETTING_INT, 256, 65536, 4096, NULL, NULL),
    SETTING("hash_slots", PORTAIL_SETTING_INT, 0, 256, 0, NULL, NULL),
    SETTING("hash_wait_ms", PORTAIL_SETTING_INT, 0, 10000, 2000, NULL, NULL),
    SETTING("hash_queue", PORTAIL_SETTING_INT, 0, 1024, 0, NULL, NULL),
    SETTING("signin_rate", PORTAIL_SETTING_INT, 0, 100000, 0, NULL, NULL),
    SETTING("password_dictionary", PORTAIL_SETTING_STRING, 1, 1024, 0,
            "/var/cache/cracklib/cracklib_dict", NULL),
    SETTING("secret_key_file", PORTAIL_SETTING_STRING, 1, 1024, 0, "var/keys/secret.key", NULL),
    SETTING("data_dir", PORTAIL_SETTING_STRING, 1, 1024, 0, PORTAIL_DATADIR, NULL),
    SETTING("fund_name", PORTAIL_SETTING_STRING, 1, 200, 0, "votre caisse d’Assurance Maladie",
            NULL),
    SETTING("summary_budget_ms", PORTAIL_SETTING_INT, 10, 60000, 500, NULL, NULL),
    SETTING("backoffice_networks", PORTAIL_SETTING_STRING, 0, 4096, 0, "", NULL),
    SETTING("trusted_proxies", PORTAIL_SETTING_STRING, 0, 4096, 0, "", NULL),
    SETTING("metrics_socket", PORTAIL_SETTING_STRING, 0, 1024, 0, "", NULL),
    {0},
};

static const portail_setting_t database_schema[] = {
    SETTING("socket", PORTAIL_SETTING_STRING, 0, 1024, 0, "", NULL),
    SETTING("host", PORTAIL_SETTING_STRING, 0, 255, 0, "", NULL),
    SETTING("port", PORTAIL_SETTING_INT, 0, 65535, 3306, NULL, NULL),
    SETTING("user", PORTAIL_SETTING_STRING, 1, 80, 0, "portail", NULL),
    SETTING("password", PORTAIL_SETTING_STRING, 0, 256, 0, "", NULL),
    SETTING("name", PORTAIL_SETTING_STRING, 1, 64, 0, "portail", NULL),
    SETTING("pool_size", PORTAIL_SETTING_INT, 1, 1024, 16, NULL, NULL),
    SETTING("acquire_timeout_ms", PORTAIL_SETTING_INT, 0, 60000, 2000, NULL, NULL),
    SETTING("connect_timeout_s", PORTAIL_SETTING_INT, 1, 60, 2, NULL, NULL),
    SETTING("statement_cache", PORTAIL_SETTING_INT, 0, 4096, 64, NULL, NULL),
    SETTING("galera", PORTAIL_SETTING_BOOL, 0, 1, 0, NULL, NULL),
    {0},
};

static const portail_setting_t sessions_schema[] = {
    SETTING("idle_seconds", PORTAIL_SETTING_INT, 1, 86400, 1800, NULL, NULL),
    SETTING("absolute_seconds", PORTAIL_SETTING_INT, 1, 30 * 86400, 43200, NULL, NULL),
    SETTING("touch_seconds", PORTAIL_SETTING_INT, 0, 3600, 60, NULL, NULL),
    SETTING("partial_seconds", PORTAIL_SETTING_INT, 1, 3600, 300, NULL, NULL),
    {0},
};

static const portail_setting_t mail_schema[] = {
    SETTING("transport", PORTAIL_SETTING_STRING, 1, 16, 0, "file", transports),
    SETTING("dir", PORTAIL_SETTING_STRING, 1, 1024, 0, "var/mail", NULL),
    SETTING("smtp_url", PORTAIL_SETTING_STRING, 0, 1024, 0, "smtp://127.0.0.1:25", NULL),
    SETTING("from", PORTAIL_SETTING_STRING, 3, 254, 0, "Portail <ne-pas-repondre@portail.example>",
            NULL),
    SETTING("max_attempts", PORTAIL_SETTING_INT, 1, 1000, 20, NULL, NULL),
    SETTING("retry_seconds", PORTAIL_SETTING_INT, 1, 3600, 5, NULL, NULL),
    SETTING("poll_ms", PORTAIL_SETTING_INT, 10, 60000, 500, NULL, NULL),
    SETTING("alert_after_seconds", PORTAIL_SETTING_INT, 1, 30 * 86400, 3600, NULL, NULL),
    SETTING("templates", PORTAIL_SETTING_STRING, 0, 1024, 0, "", NULL),
    {0},
};

static const portail_setting_t jobs_schema[] = {
    SETTING("workers", PORTAIL_SETTING_INT, 0, 64, 2, NULL, NULL),
    SETTING("poll_ms", PORTAIL_SETTING_INT, 10, 60000, 500, NULL, NULL),
    SETTING("backoff_seconds", PORTAIL_SETTING_INT, 1, 3600, 10, NULL, NULL),
    SETTING("backoff_max_seconds", PORTAIL_SETTING_INT, 1, 86400, 3600, NULL, NULL),
    SETTING("purge_seconds", PORTAIL_SETTING_INT, 10, 86400, 300, NULL, NULL),
    SETTING("keep_jobs_days", PORTAIL_SETTING_INT, 1, 3650, 30, NULL, NULL),
    SETTING("keep_mail_days", PORTAIL_SETTING_INT, 1, 3650, 30, NULL, NULL),
    SETTING("keep_throttle_hours", PORTAIL_SETTING_INT, 1, 720, 24, NULL, NULL),
    SETTING("keep_tokens_days", PORTAIL_SETTING_INT, 0, 365, 1, NULL, NULL),
    SETTING("keep_events_days", PORTAIL_SETTING_INT, 30, 3650, 365, NULL, NULL),
    {0},
};

static const portail_setting_t documents_schema[] = {
    SETTING("max_file_bytes", PORTAIL_SETTING_INT, 1, 64LL << 20, 5LL << 20, NULL, NULL),
    SETTING("max_request_bytes", PORTAIL_SETTING_INT, 1, 256LL << 20, 20LL << 20, NULL, NULL),
    SETTING("max_files", PORTAIL_SETTING_INT, 1, 32, 5, NULL, NULL),
    /* clamd's LocalSocket; "" scans nothing. sun_path holds 107 bytes. */
    SETTING("scanner", PORTAIL_SETTING_STRING, 0, 107, 0, "", NULL),
    SETTING("scan_timeout_ms", PORTAIL_SETTING_INT, 100, 120000, 10000, NULL, NULL),
    SETTING("keep_days", PORTAIL_SETTING_INT, 1, 36500, 3650, NULL, NULL),
    {0},
};

static const portail_setting_t pdf_schema[] = {
    SETTING("fund_address", PORTAIL_SETTING_STRING, 0, 400, 0, "", NULL),
    SETTING("logo", PORTAIL_SETTING_STRING, 0, 1024, 0, "", NULL),
    SETTING("font", PORTAIL_SETTING_STRING, 1, 1024, 0,
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", NULL),
    SETTING("font_bold", PORTAIL_SETTING_STRING, 1, 1024, 0,
            "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", NULL),
    {0},
};

/* The fund's brand (core/brand.c): the pages' header and footer, the mails. */
static const portail_setting_t brand_schema[] = {
    SETTING("name", PORTAIL_SETTING_STRING, 1, 100, 0, "Assurance Maladie", NULL),
    SETTING("logo", PORTAIL_SETTING_STRING, 0, 200, 0, "", NULL),
    SETTING("logo_alt", PORTAIL_SETTING_STRING, 0, 200, 0, "", NULL),
    SETTING("logo_width", PORTAIL_SETTING_INT, 0, 4000, 0, NULL, NULL),
    SETTING("logo_height", PORTAIL_SETTING_INT, 0, 4000, 0, NULL, NULL),
    SETTING("phone", PORTAIL_SETTING_STRING, 0, 20, 0, "36 46", NULL),
    SETTING("phone_note", PORTAIL_SETTING_STRING, 0, 100, 0,
            "service gratuit + prix d\u2019un appel", NULL),
    SETTING("contact_url", PORTAIL_SETTING_STRING, 0, 256, 0, "", NULL),
    SETTING("state_service", PORTAIL_SETTING_BOOL, 0, 1, 0, NULL, NULL),
    SETTING("partials_dir", PORTAIL_SETTING_STRING, 0, 1024, 0, "", NULL),
    {0},
};

static const portail_setting_t module_entry_schema[] = {
    SETTING("name", PORTAIL_SETTING_STRING, 1, 64, 0, "", NULL),
    SETTING("enabled", PORTAIL_SETTING_BOOL, 0, 1, 1, NULL, NULL),
    SETTING("path", PORTAIL_SETTING_STRING, 0, 1024, 0, "", NULL),
    SETTING("dir", PORTAIL_SETTING_STRING, 0, 1024, 0, "", NULL),
    {0},
};

static int line_of(const config_setting_t *s)
{
    return s ? (int)config_setting_source_line(s) : 0;
}

static const portail_setting_t *schema_find(const portail_setting_t *schema, const char *name)
{
    for (const portail_setting_t *p = schema; p && p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static int check_one(const portail_setting_t *def, const config_setting_t *v, const char *file,
                     const char *where, char *err, size_t errlen)
{
    int line = line_of(v);
    int t = config_setting_type(v);
    switch (def->type) {
    case PORTAIL_SETTING_INT: {
        if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
            snprintf(err, errlen, "%s:%d: %s.%s must be an integer", file, line, where, def->name);
            return -1;
        }
        long long n = config_setting_get_int64(v);
        if (n < def->min || n > def->max) {
            snprintf(err, errlen, "%s:%d: %s.%s = %lld is out of range [%lld, %lld]", file, line,
                     where, def->name, n, def->min, def->max);
            return -1;
        }
        return 0;
    }
    case PORTAIL_SETTING_BOOL:
        if (t != CONFIG_TYPE_BOOL) {
            snprintf(err, errlen, "%s:%d: %s.%s must be true or false", file, line, where,
                     def->name);
            return -1;
        }
        return 0;
    case PORTAIL_SETTING_STRING: {
        if (t != CONFIG_TYPE_STRING) {
            snprintf(err, errlen, "%s:%d: %s.%s must be a string", file, line, where, def->name);
            return -1;
        }
        const char *s = config_setting_get_string(v);
        long long len = (long long)strlen(s);
        if (len < def->min || len > def->max) {
            snprintf(err, errlen, "%s:%d: %s.%s must be %lld to %lld characters long", file, line,
                     where, def->name, def->min, def->max);
            return -1;
        }
        if (def->choices) {
            for (const char *const *c = def->choices; *c; c++)
                if (strcmp(*c, s) == 0)
                    return 0;
            snprintf(err, errlen, "%s:%d: %s.%s = \"%s\" is not one of the allowed values", file,
                     line, where, def->name, s);
            return -1;
        }
        return 0;
    }
    }
    snprintf(err, errlen, "%s:%d: %s.%s has an unsupported schema type", file, line, where,
             def->name);
    return -1;
}

/* Validates group against schema; names in `extra` are allowed and left to
 * the caller (e.g. a module entry's `settings`). */
static int validate_group(const portail_setting_t *schema, const config_setting_t *group,
                          const char *const *extra, const char *file, const char *where, char *err,
                          size_t errlen)
{
    if (!group)
        return 0;
    if (!config_setting_is_group(group)) {
        snprintf(err, errlen, "%s:%d: %s must be a group { ... }", file, line_of(group), where);
        return -1;
    }
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *v = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(v);
        const portail_setting_t *def = schema_find(schema, name);
        if (!def) {
            int allowed = 0;
            for (const char *const *e = extra; e && *e; e++)
                allowed |= strcmp(*e, name) == 0;
            if (allowed)
                continue;
            snprintf(err, errlen, "%s:%d: unknown setting %s.%s", file, line_of(v), where, name);
            return -1;
        }
        if (check_one(def, v, file, where, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int portail_settings_validate(const portail_settings_t *s, const char *file, const char *module,
                              char *err, size_t errlen)
{
    char where[128];
    snprintf(where, sizeof(where), "module %s: settings", module);
    return validate_group(s->schema, s->group, NULL, file, where, err, errlen);
}

static const config_setting_t *lookup(const portail_settings_t *s, const char *name,
                                      const portail_setting_t **def)
{
    *def = schema_find(s->schema, name);
    if (!*def) {
        /* A module asking for a setting it never declared is a bug in the
         * module: fail loudly in development rather than return garbage. */
        portail_logf("error", NULL, "setting %s read but not declared in the schema", name);
        abort();
    }
    return s->group ? config_setting_get_member(s->group, name) : NULL;
}

long long portail_settings_int(const portail_settings_t *s, const char *name)
{
    const portail_setting_t *def;
    const config_setting_t *v = lookup(s, name, &def);
    return v ? config_setting_get_int64(v) : def->def_int;
}

int portail_settings_bool(const portail_settings_t *s, const char *name)
{
    const portail_setting_t *def;
    const config_setting_t *v = lookup(s, name, &def);
    return v ? config_setting_get_bool(v) : (int)def->def_int;
}

const char *portail_settings_str(const portail_settings_t *s, const char *name)
{
    const portail_setting_t *def;
    const config_setting_t *v = lookup(s, name, &def);
    return v ? config_setting_get_string(v) : def->def_str;
}

static int valid_module_name(const char *s)
{
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return 0;
    return *s != '\0';
}

static int load_modules(portail_conf_t *c, char *err, size_t errlen)
{
    config_setting_t *list = config_lookup(&c->cfg, "modules");
    if (!list)
        return 0;
    if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
        snprintf(err, errlen, "%s:%d: modules must be a list ( { ... }, ... )", c->file,
                 line_of(list));
        return -1;
    }
    int n = config_setting_length(list);
    if (n > 64) {
        snprintf(err, errlen, "%s:%d: at most 64 modules", c->file, line_of(list));
        return -1;
    }
    c->modules = calloc((size_t)n + 1, sizeof(*c->modules));
    if (!c->modules) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    static const char *const extra[] = {"settings", NULL};
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        if (validate_group(module_entry_schema, e, extra, c->file, "modules[]", err, errlen) < 0)
            return -1;
        portail_module_conf_t *m = &c->modules[c->nmodules++];
        m->line = line_of(e);
        const char *name = NULL;
        if (!config_setting_lookup_string(e, "name", &name) || !valid_module_name(name)) {
            snprintf(err, errlen, "%s:%d: module entry needs name = \"...\" (a-z, 0-9, _)", c->file,
                     m->line);
            return -1;
        }
        m->name = name;
        int enabled = 1;
        config_setting_lookup_bool(e, "enabled", &enabled);
        m->enabled = enabled != 0;
        const char *path = NULL;
        config_setting_lookup_string(e, "path", &path);
        m->path = path && *path ? path : NULL;
        const char *dir = NULL;
        config_setting_lookup_string(e, "dir", &dir);
        m->dir = dir && *dir ? dir : NULL;
        m->settings = config_setting_get_member(e, "settings");
        if (m->settings && !config_setting_is_group(m->settings)) {
            snprintf(err, errlen, "%s:%d: module %s: settings must be a group { ... }", c->file,
                     line_of(m->settings), name);
            return -1;
        }
        for (size_t j = 0; j + 1 < c->nmodules; j++) {
            if (strcmp(c->modules[j].name, name) == 0) {
                snprintf(err, errlen, "%s:%d: module %s is listed twice (first at line %d)",
                         c->file, m->line, name, c->modules[j].line);
                return -1;
            }
        }
    }
    return 0;
}

/* The whole file, NUL-terminated, or NULL with err. libconfig 1.5's
 * scanner calls exit() when an @include names a directory (fuzz/fuzz_config
 * found it), and one file is all Portail needs (script/conf-assemble joins
 * the modules' parts): a line starting with @include is refused here,
 * before libconfig sees it. Read once, so the text checked is the text
 * parsed. */
#define CONF_MAX_BYTES ((size_t)1 << 20)
static char *read_text(const char *path, char *err, size_t errlen)
{
    size_t n = 0;
    int too_big = 0;
    char *text = portail_file_read(path, CONF_MAX_BYTES, &n, &too_big);
    if (!text) {
        if (too_big)
            snprintf(err, errlen, "%s: larger than %zu bytes", path, CONF_MAX_BYTES);
        else
            snprintf(err, errlen, "%s: cannot read the file", path);
        return NULL;
    }
    int line = 1;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\0') {
            snprintf(err, errlen, "%s:%d: NUL byte in the file", path, line);
            free(text);
            return NULL;
        }
        if (i == 0 || text[i - 1] == '\n') {
            size_t k = i;
            while (text[k] == ' ' || text[k] == '\t')
                k++;
            if (strncmp(text + k, "@include", 8) == 0) {
                snprintf(err, errlen, "%s:%d: @include is not supported (one file)", path, line);
                free(text);
                return NULL;
            }
        }
        if (text[i] == '\n')
            line++;
    }
    return text;
}

/* Printable UTF-8 text without markup characters: the brand's texts go into
 * pages and mails (escaped there too, but a name never needs them). */
static int brand_text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F || strchr("<>\"&{}", *p))
            return 0;
    return portail_utf8_valid(s, strlen(s));
}

/* A path under web/ ("/img/logo.svg"), or with absolute_ok an http(s) or
 * mailto: address; no space, quote, "..", or markup. */
static int brand_url_ok(const char *s, int absolute_ok)
{
    if (!*s)
        return 1;
    int abs = absolute_ok && (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0 ||
                              strncmp(s, "mailto:", 7) == 0);
    if (!abs && (s[0] != '/' || s[1] == '/'))
        return 0;
    if (!abs && strstr(s, ".."))
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F || strchr("<>\"'\\`{}", *p))
            return 0;
    return 1;
}

static int brand_load(portail_conf_t *c, const portail_settings_t *br, const char *path, char *err,
                      size_t errlen)
{
    static const char *const texts[] = {"name", "logo_alt", "phone", "phone_note", NULL};
    for (const char *const *k = texts; *k; k++) {
        if (!brand_text_ok(portail_settings_str(br, *k))) {
            char key[64];
            snprintf(key, sizeof key, "brand.%s", *k);
            snprintf(err, errlen, "%s:%d: %s: text without control characters, <, >, \", &, { or }",
                     path, line_of(config_lookup(&c->cfg, key)), key);
            return -1;
        }
    }
    c->brand.name = portail_settings_str(br, "name");
    c->brand.logo = portail_settings_str(br, "logo");
    c->brand.logo_alt = portail_settings_str(br, "logo_alt");
    c->brand.logo_width = (int)portail_settings_int(br, "logo_width");
    c->brand.logo_height = (int)portail_settings_int(br, "logo_height");
    c->brand.phone = portail_settings_str(br, "phone");
    c->brand.phone_note = portail_settings_str(br, "phone_note");
    c->brand.contact_url = portail_settings_str(br, "contact_url");
    c->brand.state_service = portail_settings_bool(br, "state_service") != 0;
    c->brand.partials_dir = portail_settings_str(br, "partials_dir");
    if (!brand_url_ok(c->brand.logo, 0)) {
        snprintf(err, errlen, "%s:%d: brand.logo must be a path under web/ like \"/img/logo.svg\"",
                 path, line_of(config_lookup(&c->cfg, "brand.logo")));
        return -1;
    }
    if (!brand_url_ok(c->brand.contact_url, 1)) {
        snprintf(err, errlen,
                 "%s:%d: brand.contact_url must be a path (\"/contact.html\") or an https:, "
                 "http: or mailto: address, without spaces or quotes",
                 path, line_of(config_lookup(&c->cfg, "brand.contact_url")));
        return -1;
    }
    if (*c->brand.partials_dir && c->brand.partials_dir[0] != '/') {
        snprintf(err, errlen, "%s:%d: brand.partials_dir must be an absolute path", path,
                 line_of(config_lookup(&c->cfg, "brand.partials_dir")));
        return -1;
    }
    return 0;
}

int portail_conf_load(portail_conf_t *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    config_init(&c->cfg);
    c->file = path;
    char *text = read_text(path, err, errlen);
    if (!text)
        return -1;
    int parsed = config_read_string(&c->cfg, text);
    free(text);
    if (!parsed) {
        snprintf(err, errlen, "%s:%d: %s",
                 config_error_file(&c->cfg) ? config_error_file(&c->cfg) : path,
                 config_error_line(&c->cfg), config_error_text(&c->cfg));
        return -1;
    }
    enum { G_SERVER, G_DATABASE, G_SESSIONS, G_MAIL, G_JOBS, G_DOCUMENTS, G_PDF, G_BRAND, G_COUNT };
    static const struct {
        const char *name;
        const portail_setting_t *schema;
    } groups[G_COUNT] = {
        [G_SERVER] = {"server", server_schema},
        [G_DATABASE] = {"database", database_schema},
        [G_SESSIONS] = {"sessions", sessions_schema},
        [G_MAIL] = {"mail", mail_schema},
        [G_JOBS] = {"jobs", jobs_schema},
        [G_DOCUMENTS] = {"documents", documents_schema},
        [G_PDF] = {"pdf", pdf_schema},
        [G_BRAND] = {"brand", brand_schema},
    };
    config_setting_t *root = config_root_setting(&c->cfg);
    for (int i = 0; i < config_setting_length(root); i++) {
        config_setting_t *g = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(g);
        /* roles: checked against the declared permissions once the modules
         * are loaded (permission.c). */
        int known = strcmp(name, "modules") == 0 || strcmp(name, "roles") == 0;
        for (size_t k = 0; k < G_COUNT; k++)
            known |= strcmp(groups[k].name, name) == 0;
        if (!known) {
            snprintf(err, errlen, "%s:%d: unknown section %s", path, line_of(g), name);
            return -1;
        }
    }
    portail_settings_t s[G_COUNT];
    for (size_t k = 0; k < G_COUNT; k++) {
        s[k].schema = groups[k].schema;
        s[k].group = config_lookup(&c->cfg, groups[k].name);
        if (validate_group(s[k].schema, s[k].group, NULL, path, groups[k].name, err, errlen) < 0)
            return -1;
    }
    const portail_settings_t *sv = &s[G_SERVER], *db = &s[G_DATABASE], *ss = &s[G_SESSIONS],
                             *ml = &s[G_MAIL], *jb = &s[G_JOBS], *dc = &s[G_DOCUMENTS],
                             *pd = &s[G_PDF], *br = &s[G_BRAND];
    c->listen = portail_settings_str(sv, "listen");
    c->metrics_socket = portail_settings_str(sv, "metrics_socket");
    if (c->metrics_socket[0] && strcmp(c->metrics_socket, c->listen) == 0) {
        snprintf(err, errlen, "%s:%d: server.metrics_socket must differ from server.listen", path,
                 line_of(config_lookup(&c->cfg, "server.metrics_socket")));
        return -1;
    }
    const char *mode = portail_settings_str(sv, "socket_mode");
    char *end = NULL;
    long m = strtol(mode, &end, 8);
    if (*end || m < 0 || m > 0777) {
        snprintf(err, errlen, "%s:%d: server.socket_mode must be octal like \"0660\"", path,
                 line_of(config_lookup(&c->cfg, "server.socket_mode")));
        return -1;
    }
    c->socket_mode = (int)m;
    c->threads = (int)portail_settings_int(sv, "threads");
    c->backlog = (int)portail_settings_int(sv, "backlog");
    c->grace_seconds = (int)portail_settings_int(sv, "grace_seconds");
    c->log_path = portail_settings_str(sv, "log");
    c->log_buffer = portail_settings_bool(sv, "log_buffer") != 0;
    c->module_dir = portail_settings_str(sv, "module_dir");
    c->origin = portail_settings_str(sv, "origin");
    c->max_header_bytes = (int)portail_settings_int(sv, "max_header_bytes");
    c->max_cookie_bytes = (int)portail_settings_int(sv, "max_cookie_bytes");
    c->hash_slots = (int)portail_settings_int(sv, "hash_slots");
    c->hash_wait_ms = (int)portail_settings_int(sv, "hash_wait_ms");
    c->hash_queue = (int)portail_settings_int(sv, "hash_queue");
    c->signin_rate = (int)portail_settings_int(sv, "signin_rate");
    c->password_dict = portail_settings_str(sv, "password_dictionary");
    c->secret_key_file = portail_settings_str(sv, "secret_key_file");
    c->data_dir = portail_settings_str(sv, "data_dir");
    c->fund_name = portail_settings_str(sv, "fund_name");
    c->summary_budget_ms = (int)portail_settings_int(sv, "summary_budget_ms");
    c->pdf_address = portail_settings_str(pd, "fund_address");
    c->pdf_logo = portail_settings_str(pd, "logo");
    c->pdf_font = portail_settings_str(pd, "font");
    c->pdf_font_bold = portail_settings_str(pd, "font_bold");
    char bad[64];
    int nn = portail_nets_parse(portail_settings_str(sv, "backoffice_networks"), c->backoffice_nets,
                                PORTAIL_NETS_MAX, bad, sizeof bad);
    if (nn < 0) {
        snprintf(err, errlen,
                 "%s:%d: server.backoffice_networks: %s is not an address or network "
                 "(like 10.20.0.0/16 or 2001:db8::/32)",
                 path, line_of(config_lookup(&c->cfg, "server.backoffice_networks")), bad);
        return -1;
    }
    c->nbackoffice_nets = (size_t)nn;
    /* Used by nginx's template (script/server), checked here so that a
     * typo stops --check-config rather than nginx. */
    portail_net_t proxies[PORTAIL_NETS_MAX];
    if (portail_nets_parse(portail_settings_str(sv, "trusted_proxies"), proxies, PORTAIL_NETS_MAX,
                           bad, sizeof bad) < 0) {
        snprintf(err, errlen,
                 "%s:%d: server.trusted_proxies: %s is not an address or network "
                 "(like 10.0.0.5 or 2001:db8::/64)",
                 path, line_of(config_lookup(&c->cfg, "server.trusted_proxies")), bad);
        return -1;
    }
    if (c->hash_slots == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        c->hash_slots = cpus > 0 ? (int)cpus : 1;
    }
    /* A waiting sign-in holds a worker thread: by default four waiters per
     * slot, but always two threads left for the other routes. */
    if (c->hash_queue == 0) {
        int room = c->threads - 2 - c->hash_slots;
        c->hash_queue = 4 * c->hash_slots < room ? 4 * c->hash_slots : room > 0 ? room : 0;
    }

    /* nginx's pace for the routes that hash (portaild --nginx-values): an
     * Argon2id hash takes about 0.1 s of a core, so 25 a second per slot is
     * some 2.5 times what the slots hash, enough that a member's sign-in is
     * rarely delayed while a flood queues in nginx (where a waiting request
     * costs no thread) rather than in server.hash_queue. */
    if (c->signin_rate == 0)
        c->signin_rate = 25 * c->hash_slots;

    const char *sock = portail_settings_str(db, "socket");
    const char *host = portail_settings_str(db, "host");
    c->db.socket = *sock ? sock : NULL;
    c->db.host = *host ? host : NULL;
    if (!c->db.socket && !c->db.host) {
        snprintf(err, errlen, "%s:%d: database needs socket or host", path, line_of(db->group));
        return -1;
    }
    c->db.port = (unsigned)portail_settings_int(db, "port");
    c->db.user = portail_settings_str(db, "user");
    c->db.password = portail_settings_str(db, "password");
    c->db.database = portail_settings_str(db, "name");
    c->db.size = (unsigned)portail_settings_int(db, "pool_size");
    c->db.acquire_timeout_ms = (unsigned)portail_settings_int(db, "acquire_timeout_ms");
    c->db.connect_timeout_s = (unsigned)portail_settings_int(db, "connect_timeout_s");
    c->db.stmt_cache = (unsigned)portail_settings_int(db, "statement_cache");
    c->db.galera = portail_settings_bool(db, "galera") != 0;

    c->session_idle_s = (int)portail_settings_int(ss, "idle_seconds");
    c->session_absolute_s = (int)portail_settings_int(ss, "absolute_seconds");
    c->session_touch_s = (int)portail_settings_int(ss, "touch_seconds");
    c->session_partial_s = (int)portail_settings_int(ss, "partial_seconds");

    c->mail_transport = portail_settings_str(ml, "transport");
    c->mail_dir = portail_settings_str(ml, "dir");
    c->smtp_url = portail_settings_str(ml, "smtp_url");
    c->mail_from = portail_settings_str(ml, "from");
    c->mail_max_attempts = (int)portail_settings_int(ml, "max_attempts");
    c->mail_retry_s = (int)portail_settings_int(ml, "retry_seconds");
    c->mail_poll_ms = (int)portail_settings_int(ml, "poll_ms");
    c->mail_alert_after_s = (int)portail_settings_int(ml, "alert_after_seconds");
    c->mail_templates = portail_settings_str(ml, "templates");
    /* Empty: the templates installed beside the SQL (server.data_dir/mail),
     * so one data_dir points at the source tree or the installed copy. */
    if (!*c->mail_templates) {
        snprintf(c->mail_templates_buf, sizeof(c->mail_templates_buf), "%s/mail", c->data_dir);
        c->mail_templates = c->mail_templates_buf;
    }
    if (strcmp(c->mail_transport, "smtp") == 0 && !*c->smtp_url) {
        snprintf(err, errlen, "%s:%d: mail.smtp_url is required with transport \"smtp\"", path,
                 line_of(ml->group));
        return -1;
    }
    c->jobs_workers = (int)portail_settings_int(jb, "workers");
    c->jobs_poll_ms = (int)portail_settings_int(jb, "poll_ms");
    c->jobs_backoff_s = (int)portail_settings_int(jb, "backoff_seconds");
    c->jobs_backoff_max_s = (int)portail_settings_int(jb, "backoff_max_seconds");
    c->jobs_purge_s = (int)portail_settings_int(jb, "purge_seconds");
    c->jobs_keep_days = (int)portail_settings_int(jb, "keep_jobs_days");
    c->mail_keep_days = (int)portail_settings_int(jb, "keep_mail_days");
    c->jobs_throttle_keep_h = (int)portail_settings_int(jb, "keep_throttle_hours");
    c->docs_max_file_bytes = (size_t)portail_settings_int(dc, "max_file_bytes");
    c->docs_max_request_bytes = (size_t)portail_settings_int(dc, "max_request_bytes");
    c->docs_max_files = (size_t)portail_settings_int(dc, "max_files");
    c->docs_scanner = portail_settings_str(dc, "scanner");
    c->docs_scan_timeout_ms = (int)portail_settings_int(dc, "scan_timeout_ms");
    c->docs_keep_days = (int)portail_settings_int(dc, "keep_days");
    if (*c->docs_scanner && c->docs_scanner[0] != '/') {
        snprintf(err, errlen, "%s:%d: documents.scanner must be an absolute socket path", path,
                 line_of(dc->group));
        return -1;
    }
    if (brand_load(c, br, path, err, errlen) < 0)
        return -1;
    c->jobs_tokens_keep_days = (int)portail_settings_int(jb, "keep_tokens_days");
    c->jobs_events_keep_days = (int)portail_settings_int(jb, "keep_events_days");
    if (c->jobs_backoff_max_s < c->jobs_backoff_s) {
        snprintf(err, errlen, "%s:%d: jobs.backoff_max_seconds must be at least backoff_seconds",
                 path, line_of(jb->group));
        return -1;
    }
    return load_modules(c, err, errlen);
}

void portail_conf_free(portail_conf_t *c)
{
    free(c->modules);
    c->modules = NULL;
    c->nmodules = 0;
    config_destroy(&c->cfg);
}
