#ifndef PORTAIL_TOTP_H
#define PORTAIL_TOTP_H

#include <jansson.h>
#include <stdint.h>

#include "portail/db.h"
#include "portail/http.h"

/* ---- TOTP (core/totp.c) --------------------------------------------------
 * RFC 6238 through liboath: HMAC-SHA1, 6 digits, 30-second steps, one step
 * of tolerance either way, each step accepted once per principal (the
 * caller stores the last accepted step). Secrets are 160 random bits, kept
 * in the database only sealed (crypto_secretbox, random nonce) under a
 * subkey of the 32-byte key in the file named by server.secret_key_file,
 * read once. Without a usable key file every call below that needs it
 * fails with a 500 set on ctx and a log line naming the file. */
#define PORTAIL_TOTP_SECRET_BYTES 20
#define PORTAIL_TOTP_SEALED_BYTES 60 /* nonce + MAC + secret */
#define PORTAIL_DIGEST_BYTES 32

typedef struct portail_totp_secret {
    const char *base32;          /* 32 characters, for the authenticator app (arena) */
    const unsigned char *sealed; /* PORTAIL_TOTP_SEALED_BYTES, for the database (arena) */
    size_t sealed_len;
} portail_totp_secret_t;

/* A new random secret. 0, or -1 (500 set). */
int portail_totp_new(portail_ctx_t *ctx, portail_totp_secret_t *out);
/* Seals a given base32 secret of 160 bits (demo accounts). 0 or -1. */
int portail_totp_seal_base32(portail_ctx_t *ctx, const char *base32, portail_totp_secret_t *out);
/* The base32 text of a sealed secret (arena), NULL (500 set) when it does
 * not open with the current key. */
const char *portail_totp_base32(portail_ctx_t *ctx, const unsigned char *sealed, size_t len);
/* 1 when code is six digits (spaces allowed), so a caller can refuse a
 * malformed code before counting it as a wrong one. */
int portail_totp_code_ok(const char *code);

enum { PORTAIL_TOTP_OK = 0, PORTAIL_TOTP_WRONG = 1, PORTAIL_TOTP_REPLAY = 2 };
/* Checks code at the current time against a sealed secret. last_step is
 * the last step accepted for this principal (-1: none). PORTAIL_TOTP_OK
 * with *step the code's step, which the caller records with a guard such
 * as "... WHERE last_step IS NULL OR last_step < ?" so that of two
 * concurrent uses one loses; _WRONG; _REPLAY: right code, but for a step at
 * or before last_step (*step set); -1 error (500 set). */
int portail_totp_verify(portail_ctx_t *ctx, const unsigned char *sealed, size_t sealed_len,
                        long long last_step, const char *code, long long *step);
/* otpauth://totp/Portail%20CPAM:<label>?secret=...&issuer=Portail%20CPAM&...
 * (label percent-encoded, at most 128 bytes of it), arena; NULL for NULL input. */
const char *portail_totp_uri(portail_arena_t *a, const char *label, const char *base32);
/* text (at most 1 KiB) as a QR code: a standalone SVG document, black
 * <rect>s on white, no external resource. Arena; NULL on failure. */
const char *portail_qr_svg(portail_arena_t *a, const char *text);
/* Keyed BLAKE2b-256 (another subkey of the same key file) of a short secret
 * kept in the database, such as a recovery code: without the key file a
 * copy of the table does not allow testing guesses offline. 0 or -1 (500). */
int portail_secret_digest(portail_ctx_t *ctx, const char *text,
                          unsigned char out[PORTAIL_DIGEST_BYTES]);

#endif
