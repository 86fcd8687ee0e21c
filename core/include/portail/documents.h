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
    /* Where keep_transaction was: portail_documents_insert stores in the
     * caller's transaction. */
    void *reserved[2];
} portail_doc_rules_t;

/* The request's files, judged and scanned, ready to be stored: in the
 * request's arena. */
typedef struct portail_doc_batch portail_doc_batch_t;

/* Judges every file part of the request's multipart body for the signed-in
 * member, by its content, never by its name or part header, then scans it;
 * outside any transaction, once per request. The batch; or NULL with the
 * answer set: 422 with errors [{field, message}] (no file, type, size,
 * empty, count, virus: an infected file is also a security event of the
 * member), 413 over documents.max_request_bytes, 503 with Retry-After when
 * the configured scanner does not answer. Nothing is stored yet. */
portail_doc_batch_t *portail_documents_check(portail_ctx_t *ctx, const portail_doc_rules_t *rules);

/* The same, on an agent route that has both `permission` and `audit`: the
 * files will be documents of member_id (the agent's answer to that member),
 * who downloads them as their own; the audit row names the member.
 * Anywhere else: 500. The scanner's refusal is not recorded as the member's
 * security event. */
portail_doc_batch_t *portail_documents_check_for(portail_ctx_t *ctx, int64_t member_id,
                                                 const portail_doc_rules_t *rules);

/* Stores the batch's files under the calling module, in the caller's open
 * transaction, so that what they belong to is recorded with them: call it
 * inside a portail_tx_retry function, which may run it again. A NULL batch
 * stores nothing. 0 with *out an array (the arena's) of {id, field, name,
 * size, type, sha256}; -1 after a failed statement, without an answer. */
int portail_documents_insert(portail_ctx_t *ctx, const portail_doc_batch_t *batch, json_t **out);

/* portail_documents_check, then portail_documents_insert in a transaction
 * of its own (rerun on a conflict): 0 with *out a new array; -1 with the
 * answer set. */
int portail_documents_store(portail_ctx_t *ctx, const portail_doc_rules_t *rules, json_t **out);

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
