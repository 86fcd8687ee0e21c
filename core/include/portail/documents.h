/* Member documents (core/documents.c): uploads checked by their content
 * (libmagic), scanned by clamd when `documents.scanner` is set, stored in
 * MariaDB (table documents), answered to their owner or to an agent with the
 * route's permission, purged after `documents.keep_days` by core.purge. */
#ifndef PORTAIL_DOCUMENTS_H
#define PORTAIL_DOCUMENTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "portail/http.h"

/* A bit of portail_doc_rules_t.types. */
#define PORTAIL_DOC_TYPE(t) (1u << (unsigned)(t))

/* What a route accepts. Zero fields take the config (`documents` group); a
 * route value can only lower the config's limit. */
typedef struct portail_doc_rules {
    unsigned types;        /* PORTAIL_DOC_TYPE(PORTAIL_FILE_PDF) | ...; 0: PDF, JPEG, PNG */
    size_t max_file_bytes; /* per file */
    size_t max_files;      /* per request */
    /* Nonzero: on success the files' transaction is left open, so that the
     * caller records what they belong to in it and commits (or rolls back)
     * both together. */
    int keep_transaction;
    void *reserved[1];
} portail_doc_rules_t;

/* Stores every file part of the request's multipart body for the signed-in
 * member, under the calling module: all or nothing, in one transaction
 * (left open for the caller with rules.keep_transaction; none is open
 * after a failure).
 * Each file is judged by its content, never by its name or part header,
 * then scanned. 0 with *out a new array of {id, field, name, size, type,
 * sha256}; or -1 with the answer set: 422 with errors [{field, message}]
 * (type, size, empty, count, virus: an infected file is also a security
 * event of the member), 413 over documents.max_request_bytes, 503 with
 * Retry-After when the configured scanner does not answer (nothing
 * stored). */
int portail_documents_store(portail_ctx_t *ctx, const portail_doc_rules_t *rules, json_t **out);

/* The same, on an agent route that has both `permission` and `audit`: the
 * files are stored as documents of member_id (the agent's answer to that
 * member), who downloads them as their own; the audit row names the member.
 * Anywhere else: 500, nothing stored. The scanner's refusal is not recorded
 * as the member's security event. */
int portail_documents_store_for(portail_ctx_t *ctx, int64_t member_id,
                                const portail_doc_rules_t *rules, json_t **out);

/* Answers document id of the calling module: to its owner (member
 * session), or to an agent on a route that has both `permission` and
 * `audit` (the audit row names the owner); anyone else, and another
 * member's document, get a 404. The bytes are read straight from the
 * database into the arena and answered without another copy. */
void portail_document_send(portail_ctx_t *ctx, int64_t id, portail_disposition_t disposition);

/* The signed-in member's documents of the calling module, newest first:
 * array of {id, name, size, type, sha256, created_at}; NULL with a problem
 * set on error. */
json_t *portail_documents_list(portail_ctx_t *ctx);

#endif
