/* The module ABI, version 2. A module is one shared object exporting exactly
 * one symbol, `portail_module`, a const descriptor made with
 * PORTAIL_MODULE_INIT (designated initialisers only: a field that moves or
 * appears never shifts another). The host checks abi_version and the size of
 * every public struct the module was built with (portail_abi_sizes_t) before
 * reading anything else, and refuses to start on any mismatch, duplicate
 * name, duplicate method+pattern, duplicate job kind, malformed nav entry or
 * unknown permission, with one line.
 *
 * Spare room: each struct ends with reserved pointers that must stay zero (the
 * designated initialisers leave them so). A later field takes one of them
 * with a zero value that means "as before", so adding it is not a break. */
#ifndef PORTAIL_MODULE_H
#define PORTAIL_MODULE_H

#include <stddef.h>
#include <stdint.h>

#define PORTAIL_ABI_VERSION 2u

typedef struct portail_ctx portail_ctx_t;
typedef struct portail_settings portail_settings_t;
typedef struct portail_log portail_log_t;
typedef struct portail_db portail_db_t;
typedef struct portail_job portail_job_t;

/* The zero value is the strictest level, so a route that forgets to say who
 * may call it is agent-only: it fails closed. */
typedef enum portail_auth {
    PORTAIL_AUTH_AGENT = 0,   /* agent session, second factor done */
    PORTAIL_AUTH_MEMBER = 1,  /* member session, second factor done */
    PORTAIL_AUTH_PARTIAL = 2, /* member: password ok, second factor pending (a partial
                                 agent session reaches only public routes) */
    PORTAIL_AUTH_PUBLIC = 3,  /* anyone */
} portail_auth_t;

enum portail_method {
    PORTAIL_GET = 1u << 0, /* also answers HEAD */
    PORTAIL_POST = 1u << 1,
    PORTAIL_PUT = 1u << 2,
    PORTAIL_PATCH = 1u << 3,
    PORTAIL_DELETE = 1u << 4,
};

/* Accepted request body types; 0 means JSON only. */
enum portail_content_type {
    PORTAIL_CT_JSON = 1u << 0,
    PORTAIL_CT_FORM = 1u << 1,      /* application/x-www-form-urlencoded */
    PORTAIL_CT_MULTIPART = 1u << 2, /* multipart/form-data */
};

#define PORTAIL_BODY_DEFAULT ((size_t)16 * 1024)

typedef void (*portail_handler_fn)(portail_ctx_t *ctx);

typedef struct portail_route {
    unsigned methods;    /* PORTAIL_GET | ...; 0 is refused at load */
    const char *pattern; /* "/api/v1/things/{id}" */
    portail_handler_fn handler;
    portail_auth_t auth;
    size_t body_max;        /* 0: PORTAIL_BODY_DEFAULT */
    unsigned content_types; /* 0: PORTAIL_CT_JSON */
    /* Agent routes: the permission the agent's role must grant (declared by
     * a module's `permissions` or the core's); NULL: any signed-in agent.
     * Refused at load on a non-agent route or when nobody declares it. */
    const char *permission;
    /* Agent routes that read or change member data: the audit action
     * ("reimbursements.read"). The core writes the audit row itself once
     * the handler answered below 400, for the member the handler named with
     * portail_audit_subject() (NULL member when it named none), with the
     * reason of portail_audit_reason() if any (portail/audit.h). If that
     * write fails, the answer becomes a 500. */
    const char *audit;
    void *reserved[4];
} portail_route_t;

/* Settings a module accepts, typed and bounded: the host validates the
 * `settings` group of the config against this table (file:line in every
 * error) and refuses unknown names. */
typedef enum portail_setting_type {
    PORTAIL_SETTING_INT = 1,
    PORTAIL_SETTING_BOOL,
    PORTAIL_SETTING_STRING, /* min/max bound the length */
} portail_setting_type_t;

typedef struct portail_setting {
    const char *name;
    portail_setting_type_t type;
    long long min, max;
    long long def_int;          /* INT and BOOL */
    const char *def_str;        /* STRING */
    const char *const *choices; /* STRING: NULL-terminated allowed values, or NULL */
    /* INT, nonzero: the pages may say the value (a number of errors before
     * a lock, say): portaild writes it at start as the fragment
     * partials/marque/reglages/MODULE.NAME.html (core/brand.c), which a page
     * includes through partials/reglage.html, and its plural mark for the
     * noun after it, MODULE.NAME.s.html through partials/reglage-s.html.
     * Never a secret. */
    int on_pages;
    void *reserved[1];
} portail_setting_t;

long long portail_settings_int(const portail_settings_t *s, const char *name);
int portail_settings_bool(const portail_settings_t *s, const char *name);
const char *portail_settings_str(const portail_settings_t *s, const char *name);

/* A permission an agent route can require. Roles map to permissions in the
 * config (`roles`); without that block, `agent` holds the permissions whose
 * default_agent is nonzero and `supervisor` holds every permission. */
typedef struct portail_permission {
    const char *name;        /* "reimbursements.process": [a-z0-9_.]{1,64} */
    const char *description; /* French, for the administrator */
    int default_agent;
    void *reserved[2];
} portail_permission_t;

/* An entry of a menu. The zero menu is refused, like an href that does not
 * start with "/" (or starts with "//") or holds a space or control
 * character, a label that is missing or over 64 bytes, a text over 200
 * bytes, a permission on a member-menu entry, or a badge on a back-office
 * entry or in a module without a summary. */
typedef enum portail_menu {
    PORTAIL_MENU_MEMBER = 1,     /* the member's menu and dashboard */
    PORTAIL_MENU_BACKOFFICE = 2, /* the agents' menu */
} portail_menu_t;

typedef struct portail_nav {
    portail_menu_t menu;
    const char *label;      /* French, at most 64 bytes: "Mes remboursements" */
    const char *href;       /* "/remboursements/" */
    const char *text;       /* French, one short sentence, may be NULL */
    const char *permission; /* back office: required permission, NULL: any agent */
    int order;              /* ascending; ties by module order in the config */
    /* Member menu: nonzero shows the integer `badge` of the module's summary
     * card (> 0) next to this entry. Only the summaries of modules with such
     * an entry run for the frame of every page (GET /api/v1/portal). Takes
     * the padding after `order`: the struct's size is unchanged. */
    int badge;
    void *reserved[2];
} portail_nav_t;

/* A kind of durable job (core/jobs.c). The handler runs on a worker thread
 * of some portaild with a job context (portail/jobs.h): 0 done, -1 failed
 * (retried with backoff, then kept as failed with its last error). */
typedef int (*portail_job_fn)(portail_job_t *job);

typedef struct portail_job_kind {
    const char *name; /* unique across modules: "<module>.<what>" */
    portail_job_fn handler;
    int max_attempts;  /* 0: 5 */
    int lease_seconds; /* 0: 60; a job not finished by then runs again */
    void *reserved[2];
} portail_job_kind_t;

/* Core events a module reacts to. Hooks run in the emitter's transaction on
 * its connection: a hook that fails makes the emitter's change fail too. */
typedef enum portail_hook_event {
    PORTAIL_HOOK_ACCOUNT_LOCKED = 1,
    PORTAIL_HOOK_ACCOUNT_UNLOCKED,
    PORTAIL_HOOK_EMAIL_CHANGED,
    PORTAIL_HOOK_MEMBER_DELETED,
} portail_hook_event_t;

typedef struct portail_hook_args {
    portail_hook_event_t event;
    int64_t member_id;
    const char *detail; /* lock reason name, new e-mail, ...; may be NULL */
} portail_hook_args_t;

typedef struct portail_hook {
    portail_hook_event_t event;
    /* 0 or -1 (the emitter then fails and rolls back). state: the module's. */
    int (*handler)(portail_db_t *db, const portail_hook_args_t *args, void *state);
    void *reserved[2];
} portail_hook_t;

/* The size of every public struct a module was compiled with. */
typedef struct portail_abi_sizes {
    uint32_t module, route, setting, permission, nav, job_kind, hook, hook_args;
    uint32_t principal, client, part;
    uint32_t reserved[5];
} portail_abi_sizes_t;

typedef struct portail_module {
    uint32_t abi_version; /* PORTAIL_ABI_VERSION */
    uint32_t struct_size; /* sizeof(portail_module_t) */
    const portail_abi_sizes_t *sizes;
    const char *name;
    const char *version;
    const portail_setting_t *settings; /* {0}-terminated, may be NULL */
    /* Called once at start, before any thread serves. Returns 0 on success;
     * on failure writes a one-line reason into err. */
    int (*init)(const portail_settings_t *settings, void **state, char *err, size_t errlen);
    void (*fini)(void *state);
    const portail_route_t *routes;           /* {0}-terminated */
    const portail_permission_t *permissions; /* {0}-terminated, may be NULL */
    const portail_nav_t *nav;                /* {0}-terminated, may be NULL */
    const portail_job_kind_t *jobs;          /* {0}-terminated, may be NULL */
    const portail_hook_t *hooks;             /* {0}-terminated, may be NULL */
    /* The member's dashboard card: a small JSON object ({title, text,
     * href, count...}) set in *card (a new reference), or NULL for none.
     * Runs in a member request: portail_db(), the principal, the arena. 0 or
     * -1 (the card is left out, the dashboard still answers). */
    int (*summary)(portail_ctx_t *ctx, void **card);
    void *reserved[8];
} portail_module_t;

/* Filled in by the module's compiler, compared by the host's. */
#define PORTAIL_ABI_SIZES_INIT                                                                     \
    {                                                                                              \
        .module = sizeof(portail_module_t), .route = sizeof(portail_route_t),                      \
        .setting = sizeof(portail_setting_t), .permission = sizeof(portail_permission_t),          \
        .nav = sizeof(portail_nav_t), .job_kind = sizeof(portail_job_kind_t),                      \
        .hook = sizeof(portail_hook_t), .hook_args = sizeof(portail_hook_args_t),                  \
        .principal = sizeof(struct portail_principal), .client = sizeof(struct portail_client),    \
        .part = sizeof(struct portail_part)                                                        \
    }

/* The structs of http.h a module reads, for the size check above. */
struct portail_principal;
struct portail_client;
struct portail_part;

#define PORTAIL_MODULE_INIT(...)                                                                   \
    static const portail_abi_sizes_t portail_module_sizes_ = PORTAIL_ABI_SIZES_INIT;               \
    __attribute__((visibility("default")))                                                         \
    const portail_module_t portail_module = {.abi_version = PORTAIL_ABI_VERSION,                   \
                                             .struct_size = sizeof(portail_module_t),              \
                                             .sizes = &portail_module_sizes_,                      \
                                             __VA_ARGS__}

#endif
