/* Bearer secrets: 32 random bytes handed out as base64url, stored only as
 * their BLAKE2b-256 hash, so a copy of the database lets nobody in. Session
 * cookies and the one-time links sent by mail share this; the links also get
 * a purpose, a subject, an expiry and single use. */
#include <sodium.h>
#include <string.h>

#include "internal.h"

#define TOKEN_BYTES 32
#define DATA_MAX 4096
#define PURPOSE_MAX 32

void portail_secret_new(char text[PORTAIL_SECRET_CHARS + 1],
                        unsigned char hash[PORTAIL_SECRET_HASH])
{
    unsigned char raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(text, PORTAIL_SECRET_CHARS + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_generichash(hash, PORTAIL_SECRET_HASH, raw, sizeof raw, NULL, 0);
    sodium_memzero(raw, sizeof raw);
}

int portail_secret_hash(const char *text, unsigned char hash[PORTAIL_SECRET_HASH])
{
    if (!text || strlen(text) != PORTAIL_SECRET_CHARS)
        return -1;
    for (const char *p = text; *p; p++) {
        char ch = *p;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return -1;
    }
    unsigned char raw[TOKEN_BYTES];
    size_t len = 0;
    if (sodium_base642bin(raw, sizeof raw, text, PORTAIL_SECRET_CHARS, NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != TOKEN_BYTES)
        return -1;
    crypto_generichash(hash, PORTAIL_SECRET_HASH, raw, sizeof raw, NULL, 0);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

int portail_token_issue(portail_db_t *db, portail_arena_t *a, const char *purpose, int64_t subject,
                        const char *data, int ttl_s, const char **token)
{
    if (!purpose || !*purpose || strlen(purpose) > PURPOSE_MAX || ttl_s <= 0 ||
        (data && strlen(data) > DATA_MAX))
        return -1;
    /* A new link makes the older ones of the same kind useless: only the
     * last mail a member received works. */
    if (portail_db_exec(db,
                        "UPDATE one_time_tokens SET used_at = UTC_TIMESTAMP() "
                        "WHERE purpose = ? AND subject_id = ? AND used_at IS NULL",
                        "sl", purpose, (long long)subject) < 0)
        return -1;
    char *text = portail_alloc(a, PORTAIL_SECRET_CHARS + 1);
    unsigned char hash[PORTAIL_SECRET_HASH];
    portail_secret_new(text, hash);
    if (portail_db_exec(db,
                        "INSERT INTO one_time_tokens (purpose, token_hash, subject_id, data, "
                        "expires_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP() + INTERVAL ? SECOND)",
                        "sblsi", purpose, hash, sizeof hash, (long long)subject, data, ttl_s) != 1)
        return -1;
    *token = text;
    return 0;
}

static int lookup(portail_db_t *db, portail_arena_t *a, const char *purpose, const char *token,
                  int64_t *subject, const char **data, long long *id)
{
    unsigned char hash[PORTAIL_SECRET_HASH];
    if (!purpose || portail_secret_hash(token, hash) != 0)
        return PORTAIL_TOKEN_UNKNOWN;
    json_t *row = portail_db_row(
        db,
        "SELECT id, subject_id, data, used_at IS NULL AND expires_at > UTC_TIMESTAMP() AS live "
        "FROM one_time_tokens WHERE token_hash = ? AND purpose = ?",
        "bs", hash, sizeof hash, purpose);
    if (!row)
        return portail_db_failed(db) ? -1 : PORTAIL_TOKEN_UNKNOWN;
    if (portail_row_int(row, "live", 0) != 1)
        return PORTAIL_TOKEN_SPENT;
    *id = portail_row_int(row, "id", 0);
    if (subject)
        *subject = portail_row_int(row, "subject_id", 0);
    if (data) {
        const char *d = portail_row_str(row, "data");
        *data = d ? portail_strdup(a, d) : NULL;
    }
    return PORTAIL_TOKEN_OK;
}

int portail_token_peek(portail_db_t *db, portail_arena_t *a, const char *purpose, const char *token,
                       int64_t *subject, const char **data)
{
    long long id = 0;
    return lookup(db, a, purpose, token, subject, data, &id);
}

int portail_token_consume(portail_db_t *db, portail_arena_t *a, const char *purpose,
                          const char *token, int64_t *subject, const char **data)
{
    long long id = 0;
    int rc = lookup(db, a, purpose, token, subject, data, &id);
    if (rc != PORTAIL_TOKEN_OK)
        return rc;
    /* The guard on used_at settles two concurrent uses: one wins. */
    long long n = portail_db_exec(db,
                                  "UPDATE one_time_tokens SET used_at = UTC_TIMESTAMP() "
                                  "WHERE id = ? AND used_at IS NULL",
                                  "l", id);
    if (n < 0)
        return -1;
    return n == 1 ? PORTAIL_TOKEN_OK : PORTAIL_TOKEN_SPENT;
}
