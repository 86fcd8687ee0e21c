/* Loads the modules named in the config. Everything that can be checked is
 * checked before the first request: a wrong ABI, a duplicate name or route,
 * an unknown setting or a failing init stops the start with one line, because
 * a portal running without a module it was told to run is worse than none. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define AUDIT_ACTION_MAX 50

#define RESERVED_ZERO(arr) reserved_zero((const void *const *)(arr), sizeof(arr) / sizeof((arr)[0]))

static int reserved_zero(const void *const *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* An href the menus can print as is: a path on this site, no space or
 * control character (no "javascript:", no "//other.host"). */
static int href_ok(const char *h)
{
    if (!h || h[0] != '/' || h[1] == '/' || strlen(h) > 512)
        return 0;
    for (const unsigned char *p = (const unsigned char *)h; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* Why route r is refused (buf may hold the text), or NULL. */
static const char *route_problem(const portail_route_t *r, char *buf, size_t len)
{
    if (!r->pattern || !r->handler || !r->methods)
        return "a method, a pattern and a handler are required";
    if (r->methods &
        ~(unsigned)(PORTAIL_GET | PORTAIL_POST | PORTAIL_PUT | PORTAIL_PATCH | PORTAIL_DELETE))
        return "unknown methods";
    if ((unsigned)r->auth > PORTAIL_AUTH_PUBLIC)
        return "unknown auth level";
    if (r->content_types & ~(unsigned)(PORTAIL_CT_JSON | PORTAIL_CT_FORM | PORTAIL_CT_MULTIPART))
        return "unknown content types";
    if (r->permission &&
        (r->auth != PORTAIL_AUTH_AGENT || !portail_permission_name_ok(r->permission))) {
        snprintf(buf, len,
                 "a permission (\"%.64s\") is for agent routes only and must match "
                 "[a-z0-9_.]{1,64}",
                 r->permission);
        return buf;
    }
    /* audit_log.action is VARCHAR(50): a longer action would be cut and
     * could merge with another. */
    if (r->audit && (r->auth != PORTAIL_AUTH_AGENT || !portail_permission_name_ok(r->audit) ||
                     strlen(r->audit) > AUDIT_ACTION_MAX)) {
        snprintf(buf, len,
                 "an audit action (\"%.64s\") is for agent routes only and must match "
                 "[a-z0-9_.]{1,50}",
                 r->audit);
        return buf;
    }
    if (!RESERVED_ZERO(r->reserved))
        return "reserved fields must stay zero";
    return NULL;
}

static int check_routes(const portail_module_t *d, const char *where, char *err, size_t errlen)
{
    if (!d->routes) {
        snprintf(err, errlen, "%s: no route table", where);
        return -1;
    }
    for (const portail_route_t *r = d->routes; r->pattern || r->handler || r->methods; r++) {
        char buf[256];
        const char *why = route_problem(r, buf, sizeof(buf));
        if (why) {
            snprintf(err, errlen, "%s: route %.512s: %s", where, r->pattern ? r->pattern : "(null)",
                     why);
            return -1;
        }
    }
    return 0;
}

static int check_settings(const portail_module_t *d, const char *where, char *err, size_t errlen)
{
    for (const portail_setting_t *s = d->settings; s && s->name; s++) {
        if (!RESERVED_ZERO(s->reserved)) {
            snprintf(err, errlen, "%s: setting %s: reserved fields must stay zero", where, s->name);
            return -1;
        }
        if (s->on_pages && s->type != PORTAIL_SETTING_INT) {
            snprintf(err, errlen, "%s: setting %s: only a number can be shown on the pages", where,
                     s->name);
            return -1;
        }
    }
    return 0;
}

static int check_permissions(const portail_module_t *d, const char *where, char *err, size_t errlen)
{
    for (const portail_permission_t *p = d->permissions; p && (p->name || p->description); p++) {
        if (!portail_permission_name_ok(p->name)) {
            snprintf(err, errlen, "%s: permission \"%s\" must match [a-z0-9_.]{1,64}", where,
                     p->name ? p->name : "(null)");
            return -1;
        }
        if (!RESERVED_ZERO(p->reserved)) {
            snprintf(err, errlen, "%s: permission %s: reserved fields must stay zero", where,
                     p->name);
            return -1;
        }
    }
    return 0;
}

static int check_nav(const portail_module_t *d, const char *where, char *err, size_t errlen)
{
    for (const portail_nav_t *v = d->nav; v && (v->menu || v->label || v->href); v++) {
        const char *label = v->label ? v->label : "(null)";
        const char *why = NULL;
        if (v->menu != PORTAIL_MENU_MEMBER && v->menu != PORTAIL_MENU_BACKOFFICE)
            why = "unknown menu (PORTAIL_MENU_MEMBER or PORTAIL_MENU_BACKOFFICE)";
        else if (!v->label || !*v->label || strlen(v->label) > 64)
            why = "label must be 1 to 64 bytes";
        else if (!href_ok(v->href))
            why = "href must be a path starting with \"/\", without spaces or control "
                  "characters";
        else if (v->text && strlen(v->text) > 200)
            why = "text must be at most 200 bytes";
        else if (v->permission && v->menu == PORTAIL_MENU_MEMBER)
            why = "entries of the member menu carry no permission";
        else if (v->permission && !portail_permission_name_ok(v->permission))
            why = "permission must match [a-z0-9_.]{1,64}";
        else if (v->badge && (v->menu != PORTAIL_MENU_MEMBER || !d->summary))
            why = "a badge is for member-menu entries of a module with a summary";
        else if (!RESERVED_ZERO(v->reserved))
            why = "reserved fields must stay zero";
        if (why) {
            snprintf(err, errlen, "%s: menu entry \"%.64s\": %s", where, label, why);
            return -1;
        }
    }
    return 0;
}

static int check_jobs(const portail_module_t *d, const char *where, char *err, size_t errlen)
{
    size_t mlen = strlen(d->name);
    for (const portail_job_kind_t *j = d->jobs; j && (j->name || j->handler); j++) {
        const char *why = NULL;
        if (!j->name || strncmp(j->name, d->name, mlen) != 0 || j->name[mlen] != '.' ||
            !j->name[mlen + 1] || !portail_permission_name_ok(j->name))
            why = "name must be \"<module>.<kind>\" ([a-z0-9_.], at most 64 bytes)";
        else if (!j->handler)
            why = "no handler";
        else if (j->max_attempts < 0 || j->lease_seconds < 0)
            why = "max_attempts and lease_seconds must be 0 or more";
        else if (j->max_attempts > PORTAIL_JOB_ATTEMPTS_MAX ||
                 j->lease_seconds > PORTAIL_JOB_LEASE_MAX_S)
            why = "max_attempts (at most 1000) or lease_seconds (at most 86400) too large";
        else if (!RESERVED_ZERO(j->reserved))
            why = "reserved fields must stay zero";
        if (why) {
            snprintf(err, errlen, "%s: job kind \"%s\": %s", where, j->name ? j->name : "(null)",
                     why);
            return -1;
        }
    }
    return 0;
}

static int check_hooks(const portail_module_t *d, const char *where, char *err, size_t errlen)
{
    for (const portail_hook_t *h = d->hooks; h && (h->event || h->handler); h++) {
        const char *why = NULL;
        if (h->event < PORTAIL_HOOK_ACCOUNT_LOCKED || h->event > PORTAIL_HOOK_MEMBER_DELETED)
            why = "unknown event";
        else if (!h->handler)
            why = "no handler";
        else if (!RESERVED_ZERO(h->reserved))
            why = "reserved fields must stay zero";
        if (why) {
            snprintf(err, errlen, "%s: hook on event %d: %s", where, (int)h->event, why);
            return -1;
        }
    }
    return 0;
}

static int check_descriptor(const portail_module_t *d, const char *where, char *err, size_t errlen)
{
    if (!RESERVED_ZERO(d->reserved)) {
        snprintf(err, errlen, "%s: reserved fields of the descriptor must stay zero", where);
        return -1;
    }
    if (check_routes(d, where, err, errlen) < 0 || check_settings(d, where, err, errlen) < 0 ||
        check_permissions(d, where, err, errlen) < 0 || check_nav(d, where, err, errlen) < 0 ||
        check_jobs(d, where, err, errlen) < 0 || check_hooks(d, where, err, errlen) < 0)
        return -1;
    return 0;
}

static int load_one(const portail_conf_t *c, const portail_module_conf_t *mc,
                    portail_loaded_module_t *lm, char *err, size_t errlen)
{
    char path[4096];
    const char *file = mc->path;
    char def[128];
    if (!file) {
        snprintf(def, sizeof(def), "%s.so", mc->name);
        file = def;
    }
    if (file[0] == '/')
        snprintf(path, sizeof(path), "%s", file);
    else
        snprintf(path, sizeof(path), "%s/%s", c->module_dir, file);
    lm->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lm->handle) {
        snprintf(err, errlen, "%s:%d: module %s: cannot load %s: %s", c->file, mc->line, mc->name,
                 path, dlerror());
        return -1;
    }
    const portail_module_t *d = dlsym(lm->handle, "portail_module");
    if (!d) {
        snprintf(err, errlen, "%s:%d: module %s: %s exports no portail_module descriptor", c->file,
                 mc->line, mc->name, path);
        return -1;
    }
    /* Read only the two leading fields until they are known to match. */
    if (d->abi_version != PORTAIL_ABI_VERSION || d->struct_size != sizeof(portail_module_t)) {
        snprintf(err, errlen,
                 "%s:%d: module %s: ABI mismatch (module ABI %u, size %u; host ABI %u, size "
                 "%zu): rebuild it against this portaild",
                 c->file, mc->line, mc->name, d->abi_version, d->struct_size, PORTAIL_ABI_VERSION,
                 sizeof(portail_module_t));
        return -1;
    }
    static const portail_abi_sizes_t host_sizes = PORTAIL_ABI_SIZES_INIT;
    if (!d->sizes || memcmp(d->sizes, &host_sizes, sizeof(host_sizes)) != 0) {
        snprintf(err, errlen,
                 "%s:%d: module %s: ABI mismatch (the sizes of its public structs differ from "
                 "this portaild's): rebuild it against this portaild",
                 c->file, mc->line, mc->name);
        return -1;
    }
    if (!d->name || strcmp(d->name, mc->name) != 0) {
        snprintf(err, errlen, "%s:%d: module %s: %s declares itself as \"%s\"", c->file, mc->line,
                 mc->name, path, d->name ? d->name : "");
        return -1;
    }
    if (!d->version) {
        snprintf(err, errlen, "%s:%d: module %s: no version", c->file, mc->line, mc->name);
        return -1;
    }
    lm->desc = d;
    lm->enabled = mc->enabled;
    lm->settings.schema = d->settings;
    lm->settings.group = mc->settings;
    if (portail_settings_validate(&lm->settings, c->file, mc->name, err, errlen) < 0)
        return -1;
    char where[256];
    snprintf(where, sizeof(where), "%s:%d: module %s", c->file, mc->line, mc->name);
    return check_descriptor(d, where, err, errlen);
}

int portail_modules_load(const portail_conf_t *c, portail_router_t *r,
                         portail_loaded_module_t **out, size_t *n, char *err, size_t errlen)
{
    portail_loaded_module_t *mods = calloc(c->nmodules + 1, sizeof(*mods));
    if (!mods) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *out = mods;
    *n = 0;
    for (size_t i = 0; i < c->nmodules; i++) {
        portail_loaded_module_t *lm = &mods[(*n)++];
        if (load_one(c, &c->modules[i], lm, err, errlen) < 0)
            return -1;
        for (size_t j = 0; j + 1 < *n; j++) {
            if (strcmp(mods[j].desc->name, lm->desc->name) == 0) {
                snprintf(err, errlen, "%s:%d: module %s is loaded twice", c->file,
                         c->modules[i].line, lm->desc->name);
                return -1;
            }
        }
    }
    if (portail_access_build(c, mods, *n, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < *n; i++) {
        portail_loaded_module_t *lm = &mods[i];
        if (!lm->enabled)
            continue;
        for (const portail_route_t *rt = lm->desc->routes; rt->pattern; rt++) {
            char rerr[512];
            if (portail_router_add(r, rt, lm, rerr, sizeof(rerr)) < 0) {
                snprintf(err, errlen, "%s: %s", c->file, rerr);
                return -1;
            }
        }
    }
    for (size_t i = 0; i < *n; i++) {
        portail_loaded_module_t *lm = &mods[i];
        if (!lm->enabled || !lm->desc->init)
            continue;
        char ierr[512] = "";
        if (lm->desc->init(&lm->settings, &lm->state, ierr, sizeof(ierr)) != 0) {
            snprintf(err, errlen, "%s:%d: module %s: init failed: %s", c->file, c->modules[i].line,
                     lm->desc->name, ierr[0] ? ierr : "no reason given");
            return -1;
        }
        lm->initialised = true;
    }
    return 0;
}

void portail_modules_unload(portail_loaded_module_t *mods, size_t n)
{
    portail_access_free();
    if (!mods)
        return;
    for (size_t i = n; i-- > 0;) {
        if (mods[i].initialised && mods[i].desc->fini)
            mods[i].desc->fini(mods[i].state);
            /* ASan needs the objects mapped to symbolise leaks; dlclose only in
             * normal builds. */
#if !defined(__SANITIZE_ADDRESS__)
        if (mods[i].handle)
            dlclose(mods[i].handle);
#endif
    }
    free(mods);
}
