/* Permissions and roles. Modules (and the core) declare permissions; the
 * config's `roles` group maps each agent role to the permissions it grants.
 * Everything is resolved once before the first request, so that a route
 * naming a permission nobody declares, or a role granting one, stops the
 * start instead of silently refusing (or allowing) at request time. The
 * table is read-only once the threads serve. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "portail/texts.h"

#define ROLE_NAME_MAX 20 /* sessions.role is VARCHAR(20) */
#define ROLES_MAX 32

const portail_permission_t portail_core_permissions[] = {
    {.name = "audit.read", .description = TXT_PERMISSION_AUDIT_READ},
    {.name = "jobs.read", .description = TXT_PERMISSION_JOBS_READ},
    {.name = "jobs.write", .description = TXT_PERMISSION_JOBS_WRITE},
    {.name = "members.read", .description = TXT_PERMISSION_MEMBERS_READ, .default_agent = 1},
    {.name = "members.lock", .description = TXT_PERMISSION_MEMBERS_LOCK, .default_agent = 1},
    {0},
};

typedef struct role {
    char *name;
    const char **perms; /* names owned by the descriptors or the config */
    size_t nperms;
} role_t;

static role_t roles[ROLES_MAX];
static size_t nroles;
static const portail_loaded_module_t *loaded;
static size_t nloaded;

int portail_permission_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '.'))
            return 0;
    return 1;
}

static int role_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > ROLE_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* The declaration of name, or NULL; *owner says whose ("core" or a module). */
static const portail_permission_t *find(const portail_loaded_module_t *mods, size_t n,
                                        const char *name, const char **owner)
{
    for (const portail_permission_t *p = portail_core_permissions; p->name; p++)
        if (strcmp(p->name, name) == 0) {
            *owner = "core";
            return p;
        }
    for (size_t i = 0; i < n; i++)
        for (const portail_permission_t *p = mods[i].desc->permissions; p && p->name; p++)
            if (strcmp(p->name, name) == 0) {
                *owner = mods[i].desc->name;
                return p;
            }
    return NULL;
}

static int declared(const portail_loaded_module_t *mods, size_t n, const char *name)
{
    const char *owner;
    return find(mods, n, name, &owner) != NULL;
}

static role_t *role_add(const char *name)
{
    if (nroles == ROLES_MAX)
        return NULL;
    role_t *r = &roles[nroles];
    r->name = strdup(name);
    if (!r->name)
        return NULL;
    nroles++;
    return r;
}

static int role_grant(role_t *r, const char *perm)
{
    for (size_t i = 0; i < r->nperms; i++)
        if (strcmp(r->perms[i], perm) == 0)
            return 0;
    const char **p = realloc(r->perms, (r->nperms + 1) * sizeof(*p));
    if (!p)
        return -1;
    r->perms = p;
    r->perms[r->nperms++] = perm;
    return 0;
}

/* Each permission of the core and every module, in declaration order. */
static int grant_defaults(const portail_loaded_module_t *mods, size_t n)
{
    role_t *agent = role_add("agent"), *supervisor = role_add("supervisor");
    if (!agent || !supervisor)
        return -1;
    for (size_t i = 0; i <= n; i++) {
        const portail_permission_t *p =
            i == 0 ? portail_core_permissions : mods[i - 1].desc->permissions;
        for (; p && p->name; p++) {
            if (role_grant(supervisor, p->name) < 0 ||
                (p->default_agent && role_grant(agent, p->name) < 0))
                return -1;
        }
    }
    return 0;
}

static int line_of(const config_setting_t *s)
{
    return s ? (int)config_setting_source_line(s) : 0;
}

static int grant_config(const portail_conf_t *c, const config_setting_t *g,
                        const portail_loaded_module_t *mods, size_t n, char *err, size_t errlen)
{
    if (!config_setting_is_group(g)) {
        snprintf(err, errlen, "%s:%d: roles must be a group { role = [\"permission\", ...]; }",
                 c->file, line_of(g));
        return -1;
    }
    int count = config_setting_length(g);
    if (count > ROLES_MAX) {
        snprintf(err, errlen, "%s:%d: roles: at most %d roles", c->file, line_of(g), ROLES_MAX);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(e);
        if (!role_name_ok(name)) {
            snprintf(err, errlen,
                     "%s:%d: roles: \"%s\" is not a valid role name ([a-z][a-z0-9_]{0,19})",
                     c->file, line_of(e), name);
            return -1;
        }
        if (!config_setting_is_aggregate(e) || config_setting_is_group(e)) {
            snprintf(err, errlen, "%s:%d: roles.%s must be a list of permission names", c->file,
                     line_of(e), name);
            return -1;
        }
        role_t *r = role_add(name);
        if (!r) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (int k = 0; k < config_setting_length(e); k++) {
            const config_setting_t *v = config_setting_get_elem(e, (unsigned)k);
            const char *perm = config_setting_get_string(v);
            if (!perm) {
                snprintf(err, errlen, "%s:%d: roles.%s: permissions are strings", c->file,
                         line_of(v), name);
                return -1;
            }
            if (!declared(mods, n, perm)) {
                snprintf(err, errlen,
                         "%s:%d: roles.%s: unknown permission \"%s\" (declared by neither the "
                         "core nor a module)",
                         c->file, line_of(v), name, perm);
                return -1;
            }
            if (role_grant(r, perm) < 0) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
        }
    }
    return 0;
}

static int check_declared(const portail_conf_t *c, const portail_loaded_module_t *mods, size_t n,
                          char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const portail_module_t *d = mods[i].desc;
        int line = c->modules[i].line;
        for (const portail_permission_t *p = d->permissions; p && p->name; p++) {
            const char *owner = NULL;
            const portail_permission_t *first = find(mods, n, p->name, &owner);
            if (first != p) {
                snprintf(err, errlen, "%s:%d: module %s: permission %s is already declared by %s",
                         c->file, line, d->name, p->name, owner);
                return -1;
            }
        }
        for (const portail_route_t *r = d->routes; r && r->pattern; r++) {
            if (r->permission && !declared(mods, n, r->permission)) {
                snprintf(err, errlen,
                         "%s:%d: module %s: route %s requires permission %s, declared by nobody",
                         c->file, line, d->name, r->pattern, r->permission);
                return -1;
            }
        }
        for (const portail_nav_t *v = d->nav; v && v->label; v++) {
            if (v->permission && !declared(mods, n, v->permission)) {
                snprintf(err, errlen,
                         "%s:%d: module %s: menu entry \"%s\" requires permission %s, declared "
                         "by nobody",
                         c->file, line, d->name, v->label, v->permission);
                return -1;
            }
        }
        for (const portail_job_kind_t *j = d->jobs; j && j->name; j++) {
            for (size_t k = 0; k <= i; k++) {
                for (const portail_job_kind_t *o = mods[k].desc->jobs; o && o->name && o != j;
                     o++) {
                    if (strcmp(o->name, j->name) == 0) {
                        snprintf(err, errlen,
                                 "%s:%d: module %s: job kind %s is already declared by %s", c->file,
                                 line, d->name, j->name, mods[k].desc->name);
                        return -1;
                    }
                }
            }
        }
    }
    return 0;
}

int portail_access_build(const portail_conf_t *c, const portail_loaded_module_t *mods, size_t n,
                         char *err, size_t errlen)
{
    portail_access_free();
    if (check_declared(c, mods, n, err, errlen) < 0)
        return -1;
    loaded = mods;
    nloaded = n;
    const config_setting_t *g = config_lookup(&c->cfg, "roles");
    if (g)
        return grant_config(c, g, mods, n, err, errlen);
    if (grant_defaults(mods, n) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void portail_access_free(void)
{
    for (size_t i = 0; i < nroles; i++) {
        free(roles[i].name);
        free(roles[i].perms);
    }
    memset(roles, 0, sizeof(roles));
    nroles = 0;
    loaded = NULL;
    nloaded = 0;
}

const char *portail_permission_description(const char *name)
{
    const char *owner;
    const portail_permission_t *p = name ? find(loaded, nloaded, name, &owner) : NULL;
    return p && p->description ? p->description : name;
}

static const role_t *role_find(const char *name)
{
    for (size_t i = 0; name && i < nroles; i++)
        if (strcmp(roles[i].name, name) == 0)
            return &roles[i];
    return NULL;
}

int portail_role_permits(const char *role, const char *permission)
{
    const role_t *r = role_find(role);
    for (size_t i = 0; r && permission && i < r->nperms; i++)
        if (strcmp(r->perms[i], permission) == 0)
            return 1;
    return 0;
}

json_t *portail_role_permissions(const char *role)
{
    json_t *a = json_array();
    const role_t *r = role_find(role);
    for (size_t i = 0; r && i < r->nperms; i++)
        json_array_append_new(a, json_string(r->perms[i]));
    return a;
}

int portail_permitted(const portail_ctx_t *ctx, const char *permission)
{
    const portail_principal_t *p = &ctx->principal;
    if (p->kind != PORTAIL_PRINCIPAL_AGENT || p->level != PORTAIL_AUTH_AGENT)
        return 0;
    return portail_role_permits(p->role, permission);
}
