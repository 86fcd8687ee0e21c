/* Test module for the core's PDFs, notifications, menus and dashboard
 * (tests/integration/test_pdf.py, test_notifications.py, test_portal.py):
 * public test-only routes rendering documents and timing a render, a member
 * route notifying, nav entries for both menus (one supervisor-only) and a
 * summary that answers, sleeps or fails by setting. */
#include <portail/portail.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const summary_modes[] = {"ok", "slow", "fail", NULL};

static const portail_setting_t settings[] = {
    {.name = "summary",
     .type = PORTAIL_SETTING_STRING,
     .min = 1,
     .max = 8,
     .def_str = "ok",
     .choices = summary_modes},
    {.name = "sleep_ms", .type = PORTAIL_SETTING_INT, .min = 0, .max = 10000, .def_int = 1000},
    {0},
};

struct state {
    const char *summary;
    long long sleep_ms;
};
static struct state st;

static int init(const portail_settings_t *s, void **state, char *err, size_t errlen)
{
    st.summary = portail_settings_str(s, "summary");
    st.sleep_ms = portail_settings_int(s, "sleep_ms");
    *state = &st;
    if (portail_notify_kind("pdfmod.document", "Un nouveau document est disponible") < 0 ||
        portail_notify_kind("pdfmod.message", "Une réponse à votre message") < 0) {
        snprintf(err, errlen, "pdfmod: notification kinds refused");
        return -1;
    }
    return 0;
}

static const portail_pdf_column_t cols[] = {
    {.title = "N°", .width = 1, .align = PORTAIL_PDF_RIGHT},
    {.title = "Date des soins", .width = 2},
    {.title = "Acte", .width = 4},
    {.title = "Montant remboursé", .width = 2.5, .align = PORTAIL_PDF_RIGHT},
};

/* doc: accents | table (rows) | three | qr */
static portail_pdf_t *build(portail_arena_t *a, const char *doc, long long rows)
{
    portail_pdf_meta_t meta = {.title = "Relevé de remboursements",
                               .footer = "Document généré par le portail — ne pas jeter"};
    portail_pdf_t *pdf = portail_pdf_new(a, &meta);
    if (!pdf)
        return NULL;
    if (strcmp(doc, "accents") == 0) {
        portail_pdf_title(pdf, "Attestation de droits à l'Assurance Maladie");
        portail_pdf_paragraph(pdf, "Élève à l'école, garçon ; cœur d'œuvre. « Citation » : "
                                   "très bien, où ça ? Forêt, naïve, Noël.");
        portail_pdf_keyvalue(pdf, "Montant", "12,50 €");
        portail_pdf_keyvalue(pdf, "Bénéficiaire", "Hélène Dupré-Françoise");
        return pdf;
    }
    if (strcmp(doc, "qr") == 0) {
        portail_pdf_title(pdf, "Attestation vérifiable");
        portail_pdf_qrcode(pdf, "https://portail.example/verifier/ABC123",
                           "Scannez ce code pour vérifier l'attestation.");
        return pdf;
    }
    if (strcmp(doc, "three") == 0)
        rows = 95; /* three pages with the paragraphs below */
    portail_pdf_title(pdf, "Vos remboursements");
    portail_pdf_paragraph(
        pdf, "Voici le détail des remboursements effectués par votre caisse sur la période "
             "demandée. Les montants sont exprimés en euros (€) et tiennent compte de la "
             "participation forfaitaire et des franchises médicales.");
    const char **cells = portail_alloc(a, (size_t)(rows ? rows : 1) * 4 * sizeof(*cells));
    for (long long r = 0; r < rows; r++) {
        cells[r * 4] = portail_sprintf(a, "%lld", r + 1);
        cells[r * 4 + 1] = portail_sprintf(a, "%02lld/%02lld/2026", r % 28 + 1, r % 12 + 1);
        cells[r * 4 + 2] = r % 3 ? "Consultation généraliste" : "Pharmacie — médicaments";
        cells[r * 4 + 3] = portail_sprintf(a, "%lld,%02lld €", 10 + r % 40, r % 100);
    }
    if (portail_pdf_table(pdf, cols, 4, cells, (size_t)rows) < 0)
        return NULL;
    portail_pdf_keyvalue(pdf, "Total", "1 234,56 €");
    return pdf;
}

static void pdf_route(portail_ctx_t *ctx)
{
    const char *doc = portail_req_query(ctx, "doc");
    long long rows;
    if (portail_query_int(ctx, "rows", 0, 10000, 200, &rows) < 0)
        return;
    portail_pdf_t *pdf = build(portail_arena(ctx), doc ? doc : "table", rows);
    const unsigned char *bytes;
    size_t len;
    if (!pdf || portail_pdf_render(pdf, &bytes, &len) < 0) {
        portail_problem(ctx, 500, NULL, "Le document n'a pas pu être produit.");
        return;
    }
    portail_respond_file(ctx, 200, "application/pdf", bytes, len, "releve.pdf");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* GET /api/v1/test/pdfmod/bench?n=: renders the three-page document n times
 * in this request, for bench/run. */
static void bench_route(portail_ctx_t *ctx)
{
    long long n;
    if (portail_query_int(ctx, "n", 1, 200, 10, &n) < 0)
        return;
    double best = 1e9, total = 0;
    size_t bytes_len = 0;
    for (long long i = 0; i < n; i++) {
        portail_arena_t *a = portail_arena_new(64 * 1024);
        double t0 = now_ms();
        portail_pdf_t *pdf = build(a, "three", 0);
        const unsigned char *bytes;
        size_t len = 0;
        int rc = pdf ? portail_pdf_render(pdf, &bytes, &len) : -1;
        double t = now_ms() - t0;
        portail_arena_free(a);
        if (rc < 0) {
            portail_problem(ctx, 500, NULL, NULL);
            return;
        }
        bytes_len = len;
        total += t;
        if (t < best)
            best = t;
    }
    portail_respond_json(ctx, 200,
                         json_pack("{s:I, s:f, s:f, s:I}", "renders", (json_int_t)n, "mean_ms",
                                   total / (double)n, "best_ms", best, "bytes",
                                   (json_int_t)bytes_len));
}

/* POST {kind, title, text, link, rollback}: notifies the signed-in member
 * in a transaction, rolled back when asked. */
static void notify_route(portail_ctx_t *ctx)
{
    json_t *b = portail_req_json(ctx);
    json_t *errors = NULL;
    const char *kind = portail_json_str(b, "kind", 1, 64, &errors);
    const char *title = portail_json_str(b, "title", 1, 200, &errors);
    const char *text = portail_json_str(b, "text", 0, 2000, &errors);
    const char *link = json_string_value(json_object_get(b, "link"));
    if (errors) {
        portail_problem_fields(ctx, errors);
        return;
    }
    portail_db_t *db = portail_db(ctx);
    if (!db || portail_db_begin(db) < 0)
        return;
    if (portail_notify(db, portail_principal(ctx)->id, kind, title, text, link) < 0) {
        portail_db_rollback(db);
        portail_problem(ctx, 422, NULL, "Notification refusée.");
        return;
    }
    if (json_is_true(json_object_get(b, "rollback"))) {
        portail_db_rollback(db);
        portail_respond_json(ctx, 200, json_pack("{s:b}", "rolled_back", 1));
        return;
    }
    if (portail_db_commit(db) < 0)
        return;
    portail_respond_json(ctx, 201, json_pack("{s:b}", "notified", 1));
}

static int summary(portail_ctx_t *ctx, void **card)
{
    (void)ctx;
    if (strcmp(st.summary, "fail") == 0)
        return -1;
    if (strcmp(st.summary, "slow") == 0) {
        struct timespec ts = {(time_t)(st.sleep_ms / 1000), (long)(st.sleep_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0) {
        }
    }
    *card = json_pack("{s:s, s:s, s:s}", "title", "Mes documents", "text", "Vos relevés en PDF.",
                      "href", "/documents/");
    return 0;
}

static const portail_route_t routes[] = {
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/pdfmod/pdf",
     .handler = pdf_route,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/test/pdfmod/bench",
     .handler = bench_route,
     .auth = PORTAIL_AUTH_PUBLIC},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/test/pdfmod/notify",
     .handler = notify_route,
     .auth = PORTAIL_AUTH_MEMBER},
    {0},
};

static const portail_nav_t nav[] = {
    {.menu = PORTAIL_MENU_MEMBER,
     .label = "Mes documents",
     .href = "/documents/",
     .text = "Vos relevés en PDF.",
     .order = 60},
    {.menu = PORTAIL_MENU_BACKOFFICE,
     .label = "Documents des assurés",
     .href = "/backoffice/documents/",
     .order = 60},
    {.menu = PORTAIL_MENU_BACKOFFICE,
     .label = "Journal d'audit (test)",
     .href = "/backoffice/journal-test/",
     .permission = "audit.read", /* the core's, supervisors only by default */
     .order = 61},
    {0},
};

PORTAIL_MODULE_INIT(.name = "pdfmod", .version = "1.0", .settings = settings, .init = init,
                    .routes = routes, .nav = nav, .summary = summary);
