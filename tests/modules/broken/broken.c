/* One module, built once per fault (-DFAULT=n), each build breaking one
 * rule of the descriptor that the loader must refuse at start
 * (tests/integration/test_platform.py). FAULT=0 is valid: it has a member
 * menu entry and a summary that fails when its setting `fail` is true. */
#include <portail/portail.h>
#include <stddef.h>

#ifndef FAULT
#define FAULT 0
#endif

static void handler(portail_ctx_t *ctx)
{
    portail_respond_json(ctx, 200, json_pack("{s:s}", "status", "ok"));
}

__attribute__((unused)) static int job(portail_job_t *j)
{
    (void)j;
    return 0;
}

__attribute__((unused)) static int hook(portail_db_t *db, const portail_hook_args_t *args,
                                        void *state)
{
    (void)db;
    (void)args;
    (void)state;
    return 0;
}

static int failing;

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    (void)state;
    (void)err;
    (void)errlen;
    failing = portail_settings_bool(s, "fail");
    return 0;
}

static int summary(portail_ctx_t *ctx, void **card)
{
    if (failing) {
        portail_problem(ctx, 500, NULL, NULL); /* must not leak into the dashboard */
        return -1;
    }
    *card = json_pack("{s:s, s:s}", "title", "Carte de test", "href", "/test/");
    return 0;
}

static const portail_setting_t settings[] = {
    {.name = "fail", .type = PORTAIL_SETTING_BOOL},
    {0},
};

static const portail_route_t routes[] = {
    {
        .methods = PORTAIL_GET,
        .pattern = "/api/v1/broken/member",
        .handler = handler,
        .auth = PORTAIL_AUTH_MEMBER,
#if FAULT == 10
        .permission = "broken.use", /* permission on a member route */
#elif FAULT == 12
        .audit = "broken.read", /* audit on a member route */
#endif
    },
    {
        .methods = PORTAIL_GET,
        .pattern = "/api/v1/broken/agent",
        .handler = handler,
        .auth = PORTAIL_AUTH_AGENT,
        .permission = "broken.use",
#if FAULT == 11
        .audit = "broken.read",
        .reserved = {(void *)1}, /* reserved field set */
#elif FAULT == 13
        .audit = "Broken Read", /* malformed audit action */
#elif FAULT == 14
        .audit = "broken.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", /* over 50 bytes */
#endif
    },
#if FAULT == 15
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/broken/nobody",
     .handler = handler,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "nobody.declares.this"},
#endif
    {0},
};

static const portail_permission_t permissions[] = {
    {.name = "broken.use", .description = "Utiliser le module de test"},
#if FAULT == 20
    {.name = "Broken.Use2", .description = "nom invalide"},
#elif FAULT == 21
    {.name = "audit.read", .description = "déjà déclarée par le cœur"},
#elif FAULT == 22
    {.name = "example.notes.read", .description = "déjà déclarée par example"},
#endif
    {0},
};

static const portail_nav_t nav[] = {
    {.menu = PORTAIL_MENU_MEMBER, .label = "Test", .href = "/test/", .order = 10},
#if FAULT == 30
    {.menu = 0, .label = "Sans menu", .href = "/x/"},
#elif FAULT == 31
    {.menu = PORTAIL_MENU_MEMBER,
     .label = "Un libellé beaucoup trop long pour tenir dans un menu : il dépasse 64 octets",
     .href = "/x/"},
#elif FAULT == 32
    {.menu = PORTAIL_MENU_MEMBER, .label = "Ailleurs", .href = "https://evil.example/"},
#elif FAULT == 33
    {.menu = PORTAIL_MENU_MEMBER, .label = "Espace", .href = "/a b/"},
#elif FAULT == 34
    {.menu = PORTAIL_MENU_MEMBER,
     .label = "Long texte",
     .href = "/x/",
     .text =
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
#elif FAULT == 35
    {.menu = PORTAIL_MENU_BACKOFFICE, .label = "Inconnu", .href = "/x/", .permission = "nope.x"},
#elif FAULT == 36
    {.menu = PORTAIL_MENU_MEMBER, .label = "Avec droit", .href = "/x/", .permission = "broken.use"},
#elif FAULT == 37
    {.menu = PORTAIL_MENU_BACKOFFICE, .label = "Avec pastille", .href = "/x/", .badge = 1},
#endif
    {0},
};

#if FAULT >= 40 && FAULT < 50
static const portail_job_kind_t jobs[] = {
#if FAULT == 40
    {.name = "other.run", .handler = job},
#elif FAULT == 41
    {.name = "broken.run"},
#elif FAULT == 42
    {.name = "broken.run", .handler = job},
    {.name = "broken.run", .handler = job},
#elif FAULT == 43
    {.name = "broken.run", .handler = job, .max_attempts = -1},
#elif FAULT == 44
    {.name = "broken.run", .handler = job, .lease_seconds = -5},
#elif FAULT == 45
    {.name = "broken.run", .handler = job, .max_attempts = 5000},
#endif
    {0},
};
#define JOBS jobs
#else
#define JOBS NULL
#endif

#if FAULT >= 50 && FAULT < 60
static const portail_hook_t hooks[] = {
#if FAULT == 50
    {.event = (portail_hook_event_t)99, .handler = hook},
#elif FAULT == 51
    {.event = PORTAIL_HOOK_ACCOUNT_LOCKED},
#endif
    {0},
};
#define HOOKS hooks
#else
#define HOOKS NULL
#endif

#if FAULT == 60
#define MODULE_RESERVED .reserved = {(void *)1},
#else
#define MODULE_RESERVED
#endif

PORTAIL_MODULE_INIT(.name = "broken", .version = "0.0.1", .settings = settings, .init = init,
                    .routes = routes, .permissions = permissions, .nav = nav, .jobs = JOBS,
                    .hooks = HOOKS, MODULE_RESERVED.summary = summary);
