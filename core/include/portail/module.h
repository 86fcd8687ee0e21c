/* The module ABI. A module is one shared object exporting exactly one symbol,
 * `portail_module`, a const descriptor. The host checks abi_version and
 * struct_size before reading anything else, and refuses to start on any
 * mismatch, duplicate name or duplicate method+pattern. */
#ifndef PORTAIL_MODULE_H
#define PORTAIL_MODULE_H

#include <stddef.h>
#include <stdint.h>

#define PORTAIL_ABI_VERSION 1u

typedef struct portail_ctx portail_ctx_t;
typedef struct portail_settings portail_settings_t;
typedef struct portail_log portail_log_t;

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
} portail_setting_t;

long long portail_settings_int(const portail_settings_t *s, const char *name);
int portail_settings_bool(const portail_settings_t *s, const char *name);
const char *portail_settings_str(const portail_settings_t *s, const char *name);

typedef struct portail_module {
    uint32_t abi_version; /* PORTAIL_ABI_VERSION */
    uint32_t struct_size; /* sizeof(portail_module_t) */
    const char *name;
    const char *version;
    const portail_setting_t *settings; /* {0}-terminated, may be NULL */
    /* Called once at start, before any thread serves. Returns 0 on success;
     * on failure writes a one-line reason into err. */
    int (*init)(const portail_settings_t *settings, void **state, char *err, size_t errlen);
    void (*fini)(void *state);
    const portail_route_t *routes; /* {0}-terminated */
} portail_module_t;

#define PORTAIL_MODULE_INIT(...)                                                                   \
    __attribute__((visibility("default"))) const portail_module_t portail_module = {               \
        .abi_version = PORTAIL_ABI_VERSION, .struct_size = sizeof(portail_module_t), __VA_ARGS__}

#endif
