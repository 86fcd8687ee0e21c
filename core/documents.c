/* Member documents: judged by content (libmagic), scanned (clamd INSTREAM),
 * stored in MariaDB, answered as borrowed bytes. */
#include <errno.h>
#include <magic.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "db_internal.h"
#include "internal.h"
#include "portail/account.h"
#include "portail/audit.h"
#include "portail/db.h"
#include "portail/documents.h"
#include "portail/texts.h"

#define DEFAULT_TYPES                                                                              \
    (PORTAIL_DOC_TYPE(PORTAIL_FILE_PDF) | PORTAIL_DOC_TYPE(PORTAIL_FILE_JPEG) |                    \
     PORTAIL_DOC_TYPE(PORTAIL_FILE_PNG))
#define NAME_MAX_BYTES 255
/* libmagic decides on the head of a file; no need to hand it 5 MiB. */
#define MAGIC_WINDOW ((size_t)1 << 20)
#define SCAN_CHUNK ((size_t)64 * 1024)

/* The types a document may have, as stored (ENUM of sql/006) and shown. */
static const struct {
    portail_file_type_t type;
    const char *mime; /* libmagic's answer */
    const char *name; /* column value */
    const char *label;
} doc_types[] = {
    {PORTAIL_FILE_PDF, "application/pdf", "pdf", TXT_DOCUMENTS_TYPE_PDF},
    {PORTAIL_FILE_JPEG, "image/jpeg", "jpeg", TXT_DOCUMENTS_TYPE_JPEG},
    {PORTAIL_FILE_PNG, "image/png", "png", TXT_DOCUMENTS_TYPE_PNG},
};
#define NTYPES (sizeof(doc_types) / sizeof(doc_types[0]))

/* One cookie for the process: magic_t is not thread-safe, and a lookup on
 * the head of a file takes well under a millisecond. */
static pthread_mutex_t magic_mu = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_cookie;
static int magic_broken;

static int detect(const unsigned char *d, size_t n)
{
    int idx = -1;
    pthread_mutex_lock(&magic_mu);
    if (!magic_cookie && !magic_broken) {
        magic_cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
        if (!magic_cookie || magic_load(magic_cookie, NULL) != 0) {
            portail_logf("error", NULL, "documents: libmagic database not loaded: %s",
                         magic_cookie ? magic_error(magic_cookie) : "magic_open");
            if (magic_cookie)
                magic_close(magic_cookie);
            magic_cookie = NULL;
            magic_broken = 1;
        }
    }
    const char *m =
        magic_cookie ? magic_buffer(magic_cookie, d, n < MAGIC_WINDOW ? n : MAGIC_WINDOW) : NULL;
    for (size_t i = 0; m && i < NTYPES; i++)
        if (strcmp(m, doc_types[i].mime) == 0)
            idx = (int)i;
    pthread_mutex_unlock(&magic_mu);
    return idx;
}

static int type_index(const char *name)
{
    for (size_t i = 0; name && i < NTYPES; i++)
        if (strcmp(name, doc_types[i].name) == 0)
            return (int)i;
    return -1;
}

/* "Ce fichier n'est pas un PDF, un JPEG ou un PNG." from the route's list. */
static const char *type_message(portail_arena_t *a, unsigned types)
{
    const char *names[NTYPES];
    size_t n = 0;
    for (size_t i = 0; i < NTYPES; i++)
        if (types & PORTAIL_DOC_TYPE(doc_types[i].type))
            names[n++] = doc_types[i].label;
    char *s = portail_sprintf(a, TXT_DOCUMENTS_FICHIER_PAS_DU_TYPE,
                              n ? names[0] : TXT_DOCUMENTS_D_UN_TYPE_ACCEPTE);
    for (size_t i = 1; i < n; i++)
        s = portail_sprintf(a, "%s%s%s", s, i + 1 == n ? TXT_DOCUMENTS_LISTE_OU : ", ", names[i]);
    return portail_sprintf(a, "%s.", s);
}

static const char *size_text(portail_arena_t *a, size_t bytes)
{
    if (bytes % (1024 * 1024) == 0)
        return portail_sprintf(a, "%zu Mo", bytes / (1024 * 1024));
    if (bytes % 1024 == 0)
        return portail_sprintf(a, "%zu Ko", bytes / 1024);
    return portail_sprintf(a, "%zu octets", bytes);
}

/* Last path component, no control character (C0, DEL, C1), at most 255
 * bytes cut at a character boundary; the parser already checked UTF-8. */
static const char *clean_name(portail_arena_t *a, const char *fn)
{
    const char *base = fn ? fn : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t n = strlen(base);
    char *out = portail_alloc(a, n + 1);
    size_t o = 0;
    const unsigned char *s = (const unsigned char *)base;
    for (size_t i = 0; i < n;) {
        size_t len = portail_utf8_seq(s + i, n - i);
        if (len == 0) { /* not UTF-8 (the column is): left out */
            i++;
            continue;
        }
        int control = (len == 1 && (s[i] < 0x20 || s[i] == 0x7F)) ||
                      (len == 2 && s[i] == 0xC2 && s[i + 1] < 0xA0);
        if (!control) {
            if (o + len > NAME_MAX_BYTES)
                break;
            memcpy(out + o, s + i, len);
            o += len;
        }
        i += len;
    }
    out[o] = '\0';
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '.'))
        out[--o] = '\0';
    return o ? out : "document";
}

/* ---- clamd ------------------------------------------------------------------------------ */

enum { SCAN_CLEAN = 0, SCAN_FOUND = 1, SCAN_UNAVAILABLE = -1 };

static int wait_fd(int fd, short ev, const struct timespec *deadline)
{
    long ms = portail_ms_until(deadline);
    if (ms <= 0)
        return -1;
    struct pollfd p = {.fd = fd, .events = ev};
    int rc;
    do
        rc = poll(&p, 1, (int)ms);
    while (rc < 0 && errno == EINTR);
    return rc == 1 ? 0 : -1;
}

static int send_all(int fd, const void *buf, size_t n, const struct timespec *deadline)
{
    const char *p = buf;
    while (n > 0) {
        if (wait_fd(fd, POLLOUT, deadline) != 0)
            return -1;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* zINSTREAM: chunks prefixed by their length (4 bytes, big-endian), a zero
 * length to end; the reply is "stream: OK" or "stream: NAME FOUND", NUL
 * terminated. Anything else (size limit, error, silence) is "unavailable":
 * a file is never stored unscanned. */
static int clamd_scan(const char *path, int timeout_ms, const unsigned char *d, size_t n, char *sig,
                      size_t siglen)
{
    struct timespec deadline;
    portail_deadline_in(&deadline, timeout_ms);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path)
        return SCAN_UNAVAILABLE;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return SCAN_UNAVAILABLE;
    int rc = SCAN_UNAVAILABLE;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 &&
        !(errno == EINPROGRESS || errno == EAGAIN))
        goto out;
    if (send_all(fd, "zINSTREAM", 10, &deadline) != 0)
        goto out;
    for (size_t off = 0; off < n; off += SCAN_CHUNK) {
        size_t c = n - off < SCAN_CHUNK ? n - off : SCAN_CHUNK;
        unsigned char len[4] = {(unsigned char)(c >> 24), (unsigned char)(c >> 16),
                                (unsigned char)(c >> 8), (unsigned char)c};
        if (send_all(fd, len, 4, &deadline) != 0 || send_all(fd, d + off, c, &deadline) != 0)
            goto out;
    }
    static const unsigned char end[4] = {0, 0, 0, 0};
    if (send_all(fd, end, 4, &deadline) != 0)
        goto out;
    char reply[512];
    size_t got = 0;
    while (got + 1 < sizeof reply) {
        if (wait_fd(fd, POLLIN, &deadline) != 0)
            goto out;
        ssize_t r = recv(fd, reply + got, sizeof reply - 1 - got, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (memchr(reply, '\0', got))
            break;
    }
    reply[got] = '\0';
    size_t rl = strlen(reply);
    while (rl > 0 && (reply[rl - 1] == '\n' || reply[rl - 1] == '\r'))
        reply[--rl] = '\0';
    if (strcmp(reply, "stream: OK") == 0) {
        rc = SCAN_CLEAN;
    } else if (rl > 14 && strncmp(reply, "stream: ", 8) == 0 &&
               strcmp(reply + rl - 6, " FOUND") == 0) {
        size_t sl = rl - 14;
        if (sl >= siglen)
            sl = siglen - 1;
        memcpy(sig, reply + 8, sl);
        sig[sl] = '\0';
        for (char *p = sig; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7E)
                *p = '?';
        rc = SCAN_FOUND;
    } else {
        portail_logf("error", NULL, "documents: clamd answered \"%.100s\"", reply);
    }
out:
    close(fd);
    return rc;
}

/* ---- upload ------------------------------------------------------------------------------ */

typedef struct upload {
    const portail_part_t *part;
    const char *name;
    int type;          /* index in doc_types */
    const char *error; /* French reason, NULL when accepted */
    unsigned char sha[crypto_hash_sha256_BYTES];
} upload_t;

struct portail_doc_batch {
    int64_t owner;
    size_t n;
    upload_t *up;
};

/* Judges and scans the request's files for owner (checked by the
 * callers): the batch, or NULL with the answer set. */
static portail_doc_batch_t *check(portail_ctx_t *ctx, const portail_doc_rules_t *rules,
                                  int64_t owner)
{
    static const portail_doc_rules_t none = {0};
    const portail_conf_t *c = ctx->host->conf;
    portail_arena_t *a = ctx->arena;
    const portail_principal_t *pr = &ctx->principal;
    if (!rules)
        rules = &none;
    unsigned types = rules->types ? rules->types : DEFAULT_TYPES;
    size_t max_file = c->docs_max_file_bytes;
    if (rules->max_file_bytes && rules->max_file_bytes < max_file)
        max_file = rules->max_file_bytes;
    size_t max_files = c->docs_max_files;
    if (rules->max_files && rules->max_files < max_files)
        max_files = rules->max_files;

    size_t nparts = 0, nfiles = 0, total = 0;
    const portail_part_t *parts = portail_req_parts(ctx, &nparts);
    for (size_t i = 0; i < nparts; i++)
        if (parts[i].filename) {
            nfiles++;
            total += parts[i].len;
        }
    if (total > c->docs_max_request_bytes) {
        portail_problem(ctx, 413, NULL,
                        portail_sprintf(a, TXT_DOCUMENTS_TOTAL_DEPASSE,
                                        size_text(a, c->docs_max_request_bytes)));
        return NULL;
    }
    json_t *errors = NULL;
    if (nfiles == 0) {
        portail_field_error(&errors, "fichiers", TXT_DOCUMENTS_AUCUN_FICHIER_ENVOYE);
        portail_problem_fields(ctx, errors);
        return NULL;
    }
    upload_t *up = portail_alloc(a, nfiles * sizeof(*up));
    size_t nu = 0;
    for (size_t i = 0; i < nparts; i++) {
        const portail_part_t *p = &parts[i];
        if (!p->filename)
            continue;
        if (nu == max_files) {
            portail_field_error(&errors, p->name,
                                portail_sprintf(a, TXT_DOCUMENTS_AU_PLUS_FICHIERS, max_files,
                                                max_files >= 2 ? "s" : ""));
            portail_problem_fields(ctx, errors);
            return NULL;
        }
        upload_t *u = &up[nu++];
        memset(u, 0, sizeof(*u));
        u->part = p;
        u->name = clean_name(a, p->filename);
        u->type = -1;
        if (p->len == 0)
            u->error = TXT_DOCUMENTS_FICHIER_VIDE;
        else if (p->len > max_file)
            u->error = portail_sprintf(a, TXT_DOCUMENTS_FICHIER_DEPASSE, size_text(a, max_file));
    }
    /* Every file of a usable size goes to the scanner, whatever its type,
     * so that an infected file is recorded even when it would have been
     * refused anyway. */
    if (*c->docs_scanner) {
        for (size_t i = 0; i < nu; i++) {
            if (up[i].error)
                continue;
            char sig[128] = "";
            int rc = clamd_scan(c->docs_scanner, c->docs_scan_timeout_ms, up[i].part->data,
                                up[i].part->len, sig, sizeof sig);
            if (rc == SCAN_UNAVAILABLE) {
                portail_log_error(ctx, "documents: scanner %s did not answer", c->docs_scanner);
                portail_problem_retry(ctx, 503, 30, NULL, TXT_DOCUMENTS_ANTIVIRUS_INDISPONIBLE);
                return NULL;
            }
            if (rc == SCAN_FOUND) {
                portail_log_warn(ctx, "documents: %s %lld sent an infected file (%s)",
                                 pr->kind == PORTAIL_PRINCIPAL_MEMBER ? "member" : "agent",
                                 (long long)pr->id, sig);
                /* An agent's infected file is not the member's security event. */
                if (pr->kind == PORTAIL_PRINCIPAL_MEMBER &&
                    portail_security_event(
                        ctx, pr->id, "document_infected",
                        portail_sprintf(a, TXT_DOCUMENTS_FICHIER_REFUSE_ANTIVIRUS, sig)) != 0)
                    portail_log_error(ctx, "documents: security event not recorded");
                up[i].error = TXT_DOCUMENTS_FICHIER_CONTIENT_VIRUS;
            }
        }
    }
    for (size_t i = 0; i < nu; i++) {
        upload_t *u = &up[i];
        if (!u->error) {
            u->type = detect(u->part->data, u->part->len);
            if (u->type < 0 || !(types & PORTAIL_DOC_TYPE(doc_types[u->type].type)))
                u->error = type_message(a, types);
        }
        if (u->error)
            portail_field_error(&errors, u->part->name, u->error);
        else
            crypto_hash_sha256(u->sha, u->part->data, u->part->len);
    }
    if (errors) {
        portail_problem_fields(ctx, errors);
        return NULL;
    }
    portail_doc_batch_t *b = portail_alloc(a, sizeof(*b));
    b->owner = owner;
    b->n = nu;
    b->up = up;
    return b;
}

portail_doc_batch_t *portail_documents_check(portail_ctx_t *ctx, const portail_doc_rules_t *rules)
{
    const portail_principal_t *pr = &ctx->principal;
    if (pr->kind != PORTAIL_PRINCIPAL_MEMBER || pr->level != PORTAIL_AUTH_MEMBER || pr->id <= 0) {
        portail_log_error(ctx, "documents: store outside a member session");
        portail_problem(ctx, 500, NULL, NULL);
        return NULL;
    }
    return check(ctx, rules, pr->id);
}

portail_doc_batch_t *portail_documents_check_for(portail_ctx_t *ctx, int64_t member_id,
                                                 const portail_doc_rules_t *rules)
{
    const portail_principal_t *pr = &ctx->principal;
    /* Fail closed, as for downloads: an agent writes into a member's
     * documents only on a route that checks a permission and is audited. */
    if (pr->kind != PORTAIL_PRINCIPAL_AGENT || pr->level != PORTAIL_AUTH_AGENT || pr->id <= 0 ||
        !ctx->route || !ctx->route->permission || !ctx->route->audit || member_id <= 0) {
        portail_log_error(ctx, "documents: store for a member outside an audited agent route");
        portail_problem(ctx, 500, NULL, NULL);
        return NULL;
    }
    portail_audit_subject(ctx, member_id);
    return check(ctx, rules, member_id);
}

int portail_documents_insert(portail_ctx_t *ctx, const portail_doc_batch_t *b, json_t **out)
{
    *out = NULL;
    portail_db_t *db = portail_db(ctx);
    if (!db)
        return -1;
    /* Outside a transaction a failure halfway would keep the first files
     * with nothing that names them. */
    if (!db->in_tx) {
        portail_log_error(ctx, "documents: insert outside a transaction");
        return -1;
    }
    const char *module = portail_module_name(ctx);
    json_t *ids = portail_arena_json(ctx->arena, json_array());
    if (!ids)
        return -1;
    for (size_t i = 0; b && i < b->n; i++) {
        const upload_t *u = &b->up[i];
        if (portail_db_exec(db,
                            "INSERT INTO documents (member_id, module, name, size, sha256, type, "
                            "content) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            "lsslbsb", (long long)b->owner, module, u->name,
                            (long long)u->part->len, u->sha, sizeof u->sha, doc_types[u->type].name,
                            u->part->data, u->part->len) != 1)
            return -1;
        char hex[crypto_hash_sha256_BYTES * 2 + 1];
        sodium_bin2hex(hex, sizeof hex, u->sha, sizeof u->sha);
        json_array_append_new(ids, json_pack("{s:I, s:s, s:s, s:I, s:s, s:s}", "id",
                                             (json_int_t)portail_db_insert_id(db), "field",
                                             u->part->name, "name", u->name, "size",
                                             (json_int_t)u->part->len, "type",
                                             doc_types[u->type].name, "sha256", hex));
    }
    *out = ids;
    return 0;
}

typedef struct insert_tx {
    const portail_doc_batch_t *batch;
    json_t *out;
} insert_tx_t;

static int insert_tx(portail_ctx_t *ctx, portail_db_t *db, void *arg)
{
    (void)db;
    insert_tx_t *t = arg;
    return portail_documents_insert(ctx, t->batch, &t->out);
}

int portail_documents_store(portail_ctx_t *ctx, const portail_doc_rules_t *rules, json_t **out)
{
    *out = NULL;
    insert_tx_t t = {.batch = portail_documents_check(ctx, rules)};
    /* Begun only now, after the scan: an infected file's security event is
     * never undone with the files, and a rerun does not scan again. */
    if (!t.batch || portail_tx_retry(ctx, insert_tx, &t) != 0)
        return -1;
    *out = json_incref(t.out);
    return 0;
}

/* ---- download and list --------------------------------------------------------------------- */

void portail_document_send(portail_ctx_t *ctx, int64_t id, portail_disposition_t disposition)
{
    const portail_principal_t *pr = &ctx->principal;
    const char *module = portail_module_name(ctx);
    json_t *row = NULL;
    if (pr->kind == PORTAIL_PRINCIPAL_MEMBER && pr->level == PORTAIL_AUTH_MEMBER) {
        row = portail_member_row(ctx,
                                 "SELECT member_id, name, type FROM documents WHERE id = ? AND "
                                 "module = ? AND member_id = {member}",
                                 "ls", (long long)id, module);
    } else if (pr->kind == PORTAIL_PRINCIPAL_AGENT && pr->level == PORTAIL_AUTH_AGENT) {
        /* Fail closed: an agent reads a member's file only on a route that
         * checks a permission and leaves an audit row. */
        if (!ctx->route || !ctx->route->permission || !ctx->route->audit) {
            portail_log_error(ctx, "documents: agent download on a route without permission "
                                   "and audit");
            portail_problem(ctx, 500, NULL, NULL);
            return;
        }
        portail_db_t *db = portail_db(ctx);
        if (!db)
            return;
        row = portail_db_row(db,
                             "SELECT member_id, name, type FROM documents WHERE id = ? AND "
                             "module = ?",
                             "ls", (long long)id, module);
    }
    if (portail_responded(ctx))
        return;
    if (!row) {
        if (ctx->db && portail_db_failed(ctx->db))
            portail_problem(ctx, 500, NULL, NULL);
        else
            portail_problem(ctx, 404, NULL, TXT_DOCUMENTS_DOCUMENT_INTROUVABLE);
        return;
    }
    int t = type_index(portail_row_str(row, "type"));
    size_t len = 0;
    const unsigned char *data =
        t < 0 ? NULL
              : portail_db_blob(ctx->db, &len, "SELECT content FROM documents WHERE id = ?", "l",
                                (long long)id);
    if (!data) {
        portail_log_error(ctx, "documents: content of %lld not read", (long long)id);
        portail_problem(ctx, 500, NULL, NULL);
        return;
    }
    if (pr->kind == PORTAIL_PRINCIPAL_AGENT)
        portail_audit_subject(ctx, (int64_t)portail_row_int(row, "member_id", 0));
    portail_respond_bytes(ctx, 200, doc_types[t].type, disposition, data, len,
                          portail_row_str(row, "name"));
}

json_t *portail_documents_list(portail_ctx_t *ctx)
{
    json_t *rows = portail_member_rows(ctx,
                                       "SELECT id, name, size, type, sha256, created_at FROM "
                                       "documents WHERE module = ? AND member_id = {member} "
                                       "ORDER BY id DESC LIMIT 500",
                                       "s", portail_module_name(ctx));
    if (!rows && !portail_responded(ctx))
        portail_problem(ctx, 500, NULL, NULL);
    return rows;
}
