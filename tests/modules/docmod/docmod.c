/* Test module for member documents (tests/integration/test_documents.py and
 * bench/run): a member uploads (multipart, several files), lists and
 * downloads its documents; an agent with docmod.read downloads any, audited.
 * /api/v1/docmod/photos accepts PNG only, one file of at most 1 MiB, to
 * check a route's own rules. */
#include <portail/portail.h>

/* The request cap: documents.max_request_bytes (20 MiB) and the multipart
 * framing around up to 5 parts. */
#define UPLOAD_BODY_MAX (((size_t)20 << 20) + 64 * 1024)

static void upload(portail_ctx_t *ctx)
{
    json_t *docs = NULL;
    if (portail_documents_store(ctx, NULL, &docs) != 0)
        return;
    portail_respond_json(ctx, 201, json_pack("{s:o}", "documents", docs));
}

static void upload_photo(portail_ctx_t *ctx)
{
    static const portail_doc_rules_t rules = {
        .types = PORTAIL_DOC_TYPE(PORTAIL_FILE_PNG),
        .max_file_bytes = (size_t)1 << 20,
        .max_files = 1,
    };
    json_t *docs = NULL;
    if (portail_documents_store(ctx, &rules, &docs) != 0)
        return;
    portail_respond_json(ctx, 201, json_pack("{s:o}", "documents", docs));
}

static void list(portail_ctx_t *ctx)
{
    json_t *rows = portail_documents_list(ctx);
    if (rows)
        portail_respond_json(ctx, 200, json_pack("{s:O}", "documents", rows));
}

static void download(portail_ctx_t *ctx)
{
    int64_t id;
    if (portail_req_param_i64(ctx, "id", &id) != 0)
        return;
    const char *inl = portail_req_query(ctx, "inline");
    portail_document_send(ctx, id, inl && *inl == '1' ? PORTAIL_INLINE : PORTAIL_ATTACHMENT);
}

static const portail_permission_t permissions[] = {
    {.name = "docmod.read", .description = "Lire les justificatifs d'un assuré"},
    {0},
};

static const portail_route_t routes[] = {
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/docmod/documents",
     .handler = upload,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = UPLOAD_BODY_MAX,
     .content_types = PORTAIL_CT_MULTIPART},
    {.methods = PORTAIL_POST,
     .pattern = "/api/v1/docmod/photos",
     .handler = upload_photo,
     .auth = PORTAIL_AUTH_MEMBER,
     .body_max = UPLOAD_BODY_MAX,
     .content_types = PORTAIL_CT_MULTIPART},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/docmod/documents",
     .handler = list,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/docmod/documents/{id}",
     .handler = download,
     .auth = PORTAIL_AUTH_MEMBER},
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/docmod/agent/documents/{id}",
     .handler = download,
     .auth = PORTAIL_AUTH_AGENT,
     .permission = "docmod.read",
     .audit = "docmod.documents.read"},
    /* Without permission and audit: the core refuses to answer (500). */
    {.methods = PORTAIL_GET,
     .pattern = "/api/v1/docmod/agent-unaudited/documents/{id}",
     .handler = download,
     .auth = PORTAIL_AUTH_AGENT},
    {0},
};

PORTAIL_MODULE_INIT(.name = "docmod", .version = "1.0.0", .routes = routes,
                    .permissions = permissions);
