/* Mail texts as templates: one file per mail in the folder of
 * `mail.templates`, its first line the subject, then an empty line, then
 * the body; `signature.txt` is appended to every body. `{{name}}` is a
 * variable given by the caller or one of the built-ins (fund_name from
 * `server.fund_name`, brand_name and phone from `brand`, origin, greeting:
 * "Bonjour Camille Durand," when the recipient's name is known);
 * `{{Name}}` is the same value with its first letter in upper case. The
 * folder is read and checked once at start (portaild, portailctl), so a
 * broken file stops the start, not a mail. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FILE_MAX (64 * 1024)
#define NAME_MAX_LEN 64
#define SUBJECT_MAX_LEN 200
#define SIGNATURE "signature"
#define GREETING_NAME_MAX 210

typedef struct template
{
    char *name;
    char *subject;
    const char *body; /* into text */
    char *text;
}
template_t;

static struct {
    template_t *v;
    size_t n;
    char *signature;
    char *fund_name;
    char *origin;
    char *brand_name;
    char *phone;
} T;

/* The mails of the core itself: missing one is an error at start. */
static const char *const core_templates[] = {"account_locked",
                                             "account_unlocked",
                                             "account_unlocked_agent",
                                             "account_unlocked_reset",
                                             "account_unlocked_verification",
                                             "account_verify",
                                             "notification",
                                             NULL};

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Every "{{" closes with "}}" around a name: [A-Za-z] then [a-z0-9_]. */
static int syntax_ok(const char *s, char *err, size_t errlen, const char *file)
{
    for (const char *p = strstr(s, "{{"); p; p = strstr(p, "{{")) {
        const char *q = p + 2;
        if ((*q >= 'A' && *q <= 'Z') || name_char(*q))
            q++;
        while (name_char(*q))
            q++;
        if (q == p + 2 || q - (p + 2) > NAME_MAX_LEN || strncmp(q, "}}", 2) != 0) {
            snprintf(err, errlen, "%s: malformed variable near \"%.20s\"", file, p);
            return -1;
        }
        p = q + 2;
    }
    return 0;
}

static char *read_file(const char *path, char *err, size_t errlen)
{
    size_t n = 0;
    int too_big = 0;
    char *buf = portail_file_read(path, FILE_MAX, &n, &too_big);
    if (!buf && !too_big) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (!buf || !portail_utf8_valid(buf, n) || memchr(buf, '\0', n)) {
        snprintf(err, errlen, "%s: unreadable, over 64 KiB or not UTF-8 text", path);
        free(buf);
        return NULL;
    }
    /* Trailing blank lines would stack up before the signature. */
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return buf;
}

static int add_template(const char *dir, const char *file, char *err, size_t errlen)
{
    size_t len = strlen(file);
    char name[NAME_MAX_LEN + 1];
    if (len <= 4 || len - 4 > NAME_MAX_LEN)
        return 0;
    memcpy(name, file, len - 4);
    name[len - 4] = '\0';
    for (const char *p = name; *p; p++)
        if (!name_char(*p))
            return 0; /* editor backups and the like */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text = read_file(path, err, errlen);
    if (!text)
        return -1;
    if (syntax_ok(text, err, errlen, path) != 0) {
        free(text);
        return -1;
    }
    if (strcmp(name, SIGNATURE) == 0) {
        T.signature = text;
        return 0;
    }
    char *nl = strchr(text, '\n');
    if (!nl || nl == text || nl - text > SUBJECT_MAX_LEN || nl[1] != '\n' || !nl[2]) {
        snprintf(err, errlen,
                 "%s: the first line is the subject (1 to 200 bytes), then an empty line, then "
                 "the body",
                 path);
        free(text);
        return -1;
    }
    template_t *v = realloc(T.v, (T.n + 1) * sizeof *v);
    if (!v) {
        free(text);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    T.v = v;
    *nl = '\0';
    v[T.n].text = text;
    v[T.n].subject = text;
    v[T.n].body = nl + 2;
    v[T.n].name = strdup(name);
    if (!v[T.n].name) {
        free(text);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    T.n++;
    return 0;
}

static const template_t *find(const char *name)
{
    for (size_t i = 0; name && i < T.n; i++)
        if (strcmp(T.v[i].name, name) == 0)
            return &T.v[i];
    return NULL;
}

void portail_templates_free(void)
{
    for (size_t i = 0; i < T.n; i++) {
        free(T.v[i].name);
        free(T.v[i].text);
    }
    free(T.v);
    free(T.signature);
    free(T.fund_name);
    free(T.origin);
    free(T.brand_name);
    free(T.phone);
    memset(&T, 0, sizeof T);
}

int portail_templates_brand(const char *brand_name, const char *phone)
{
    free(T.brand_name);
    free(T.phone);
    T.brand_name = strdup(brand_name ? brand_name : "");
    T.phone = strdup(phone ? phone : "");
    return T.brand_name && T.phone ? 0 : -1;
}

int portail_templates_load(const char *dir, const char *fund_name, const char *origin, char *err,
                           size_t errlen)
{
    portail_templates_free();
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "mail.templates: cannot open %s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".txt") == 0)
            rc = add_template(dir, e->d_name, err, errlen);
    }
    closedir(d);
    if (rc == 0 && !T.signature) {
        snprintf(err, errlen, "mail.templates: %s/%s.txt is missing", dir, SIGNATURE);
        rc = -1;
    }
    for (const char *const *n = core_templates; rc == 0 && *n; n++) {
        if (!find(*n)) {
            snprintf(err, errlen, "mail.templates: %s/%s.txt is missing", dir, *n);
            rc = -1;
        }
    }
    T.fund_name = strdup(fund_name ? fund_name : "");
    T.origin = strdup(origin ? origin : "");
    if (rc == 0 && (!T.fund_name || !T.origin)) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc != 0)
        portail_templates_free();
    return rc;
}

int portail_templates_has(const char *name)
{
    return find(name) != NULL;
}

static const char *lookup(const char *name, const char *const *vars, const char *greeting)
{
    if (strcmp(name, "fund_name") == 0)
        return T.fund_name;
    if (strcmp(name, "brand_name") == 0)
        return T.brand_name ? T.brand_name : "Assurance Maladie";
    if (strcmp(name, "phone") == 0)
        return T.phone ? T.phone : "36 46";
    if (strcmp(name, "origin") == 0)
        return T.origin;
    if (strcmp(name, "greeting") == 0)
        return greeting;
    for (const char *const *v = vars; v && v[0]; v += 2)
        if (strcmp(v[0], name) == 0)
            return v[1] ? v[1] : "";
    return NULL;
}

/* text with every variable replaced, into the arena; NULL with the name of
 * the missing variable in *missing. */
static char *render(portail_arena_t *a, const char *text, const char *const *vars,
                    const char *greeting, const char **missing)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    const char *p = text;
    for (const char *o = strstr(p, "{{"); o; o = strstr(p, "{{")) {
        fwrite(p, 1, (size_t)(o - p), f);
        const char *c = strstr(o, "}}"); /* checked at load */
        char name[NAME_MAX_LEN + 1];
        size_t n = (size_t)(c - (o + 2));
        memcpy(name, o + 2, n);
        name[n] = '\0';
        int cap = name[0] >= 'A' && name[0] <= 'Z';
        if (cap)
            name[0] = (char)(name[0] - 'A' + 'a');
        const char *value = lookup(name, vars, greeting);
        if (!value) {
            fclose(f);
            free(out);
            *missing = portail_strdup(a, name);
            return NULL;
        }
        if (cap && value[0] >= 'a' && value[0] <= 'z') {
            fputc(value[0] - 'a' + 'A', f);
            value++;
        }
        fputs(value, f);
        p = c + 2;
    }
    fputs(p, f);
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    char *r = portail_strndup(a, out, len);
    free(out);
    return r;
}

/* "Bonjour Camille Durand," for a known name, "Bonjour," otherwise. A name
 * with a control character or over GREETING_NAME_MAX bytes is not used. */
static const char *greeting_for(portail_arena_t *a, const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > GREETING_NAME_MAX || !portail_utf8_valid(name, n))
        return "Bonjour,";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return "Bonjour,";
    const char *g = portail_sprintf(a, "Bonjour %s,", name);
    return g ? g : "Bonjour,";
}

/* The name given by the caller (variable "name"), or NULL. */
static const char *given_name(const char *const *vars)
{
    for (const char *const *v = vars; v && v[0]; v += 2)
        if (strcmp(v[0], "name") == 0)
            return v[1];
    return NULL;
}

static int render_mail(portail_arena_t *a, const char *template, const char *const *vars,
                       const char *name, const char **subject, const char **body,
                       const char **error)
{
    *error = NULL;
    const template_t *t = find(template);
    if (!t) {
        *error = portail_sprintf(a, "mail template \"%s\" unknown", template ? template : "");
        return -1;
    }
    const char *greeting = greeting_for(a, name);
    const char *missing = NULL;
    const char *s = render(a, t->subject, vars, greeting, &missing);
    const char *b = s ? render(a, t->body, vars, greeting, &missing) : NULL;
    const char *sig = b ? render(a, T.signature, vars, greeting, &missing) : NULL;
    if (!sig) {
        *error = missing ? portail_sprintf(a, "mail template \"%s\": variable \"%s\" not given",
                                           template, missing)
                         : "out of memory";
        return -1;
    }
    *subject = s;
    *body = portail_sprintf(a, "%s\n\n%s\n", b, sig);
    return *body ? 0 : -1;
}

int portail_mail_render(portail_arena_t *a, const char *template, const char *const *vars,
                        const char **subject, const char **body, const char **error)
{
    return render_mail(a, template, vars, given_name(vars), subject, body, error);
}

/* The name of whoever reads this address: the insured person of the member
 * account or of the register's row, or the agent. NULL when nobody or more
 * than one person (a shared family address) has it: the greeting is then
 * "Bonjour,", never someone else's name. */
static const char *name_of(portail_db_t *db, const char *to)
{
    json_t *rows = portail_db_rows(
        db,
        "SELECT DISTINCT n FROM ("
        "SELECT CONCAT(i.first_name, ' ', i.last_name) AS n FROM members m "
        "JOIN insured i ON i.id = m.insured_id WHERE m.email = ? "
        "UNION SELECT CONCAT(first_name, ' ', last_name) FROM insured WHERE email = ? "
        "UNION SELECT display_name FROM agents WHERE email = ? AND disabled_at IS NULL"
        ") AS names LIMIT 2",
        "sss", to, to, to);
    if (!rows || json_array_size(rows) != 1)
        return NULL;
    return portail_row_str(json_array_get(rows, 0), "n");
}

int portail_mail_template(portail_db_t *db, portail_arena_t *a, const char *to,
                          const char *template, const char *const *vars)
{
    const char *subject, *body, *error;
    const char *name = given_name(vars);
    if ((!name || !*name) && db && to)
        name = name_of(db, to);
    if (render_mail(a, template, vars, name, &subject, &body, &error) != 0) {
        portail_logf("error", NULL, "%s", error ? error : "mail template failed");
        return -1;
    }
    return portail_mail_enqueue(db, to, subject, body);
}
