/* Loads the modules named in the config. Everything that can be checked is
 * checked before the first request: a wrong ABI, a duplicate name or route,
 * an unknown setting or a failing init stops the start with one line, because
 * a portal running without a module it was told to run is worse than none. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int check_routes(const portail_module_t *d, char *err, size_t errlen)
{
    if (!d->routes) {
        snprintf(err, errlen, "module %s: no route table", d->name);
        return -1;
    }
    for (const portail_route_t *r = d->routes; r->pattern || r->handler || r->methods; r++) {
        if (!r->pattern || !r->handler || !r->methods) {
            snprintf(err, errlen, "module %s: route %s lacks a method, pattern or handler", d->name,
                     r->pattern ? r->pattern : "(null)");
            return -1;
        }
        if (r->methods & ~(unsigned)(PORTAIL_GET | PORTAIL_POST | PORTAIL_PUT | PORTAIL_PATCH |
                                     PORTAIL_DELETE)) {
            snprintf(err, errlen, "module %s: route %s has unknown methods", d->name, r->pattern);
            return -1;
        }
        if ((unsigned)r->auth > PORTAIL_AUTH_PUBLIC) {
            snprintf(err, errlen, "module %s: route %s has an unknown auth level", d->name,
                     r->pattern);
            return -1;
        }
        if (r->content_types &
            ~(unsigned)(PORTAIL_CT_JSON | PORTAIL_CT_FORM | PORTAIL_CT_MULTIPART)) {
            snprintf(err, errlen, "module %s: route %s has unknown content types", d->name,
                     r->pattern);
            return -1;
        }
    }
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
    return check_routes(d, err, errlen);
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
