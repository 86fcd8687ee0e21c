/* TOTP (RFC 6238) for members and agents: liboath computes and checks the
 * codes, libsodium makes and seals the secrets, libqrencode draws the
 * enrolment QR code. The sealing key lives in a file named by the config
 * (server.secret_key_file), never in the database: a copy of the tables
 * alone gives neither the secrets nor a way to test recovery codes. */
#include <errno.h>
#include <fcntl.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "portail/texts.h"

#define KEY_BYTES 32
#define STEP_S 30
#define WINDOW 1
#define DIGITS 6
#define ISSUER "Portail CPAM"
#define LABEL_MAX 128
#define QR_TEXT_MAX 1024
#define QR_MARGIN 4

/* Subkeys of the file's key, one per use (crypto_kdf contexts are 8 bytes). */
enum { SUBKEY_SEAL = 1, SUBKEY_DIGEST = 2 };

static pthread_mutex_t key_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int key_ready;
static unsigned char seal_key[crypto_secretbox_KEYBYTES];
static unsigned char digest_key[crypto_generichash_KEYBYTES];
static pthread_once_t oath_once = PTHREAD_ONCE_INIT;
static int oath_status = -1;

static void oath_start(void)
{
    oath_status = oath_init();
}

static void internal_error(portail_ctx_t *ctx)
{
    portail_problem(ctx, 500, NULL, TXT_TOTP_INDISPONIBLE);
}

/* Reads exactly KEY_BYTES from a regular file. The path goes into the log,
 * never a byte of the key. */
static int read_key(portail_ctx_t *ctx, const char *path, unsigned char key[KEY_BYTES])
{
    if (!path || !*path) {
        portail_log_error(ctx, "totp: server.secret_key_file is not set: secrets cannot be "
                               "sealed");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        portail_log_error(ctx, "totp: cannot open the secret key file %s (%s)", path,
                          strerror(errno));
        return -1;
    }
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        portail_log_error(ctx, "totp: the secret key file %s is not a regular file", path);
    } else if (st.st_size != KEY_BYTES) {
        portail_log_error(ctx,
                          "totp: the secret key file %s must hold exactly %d bytes (it "
                          "has %lld)",
                          path, KEY_BYTES, (long long)st.st_size);
    } else {
        size_t have = 0;
        while (have < KEY_BYTES) {
            ssize_t n = read(fd, key + have, KEY_BYTES - have);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            have += (size_t)n;
        }
        if (have == KEY_BYTES) {
            rc = 0;
            if (st.st_mode & (S_IRWXG | S_IRWXO))
                portail_log_warn(ctx,
                                 "totp: the secret key file %s is readable by others "
                                 "than its owner (chmod 600)",
                                 path);
        } else {
            portail_log_error(ctx, "totp: cannot read the secret key file %s", path);
        }
    }
    close(fd);
    return rc;
}

/* Loads the key once; a failure is retried at the next call (the operator
 * may fix the file without a restart) and logged each time. */
static int key_load(portail_ctx_t *ctx)
{
    if (atomic_load(&key_ready))
        return 0;
    pthread_once(&oath_once, oath_start);
    if (oath_status != OATH_OK) {
        portail_log_error(ctx, "totp: liboath initialisation failed");
        internal_error(ctx);
        return -1;
    }
    pthread_mutex_lock(&key_mu);
    int rc = 0;
    if (!atomic_load(&key_ready)) {
        unsigned char key[KEY_BYTES];
        rc = read_key(ctx, ctx->host->conf->secret_key_file, key);
        if (rc == 0) {
            crypto_kdf_derive_from_key(seal_key, sizeof seal_key, SUBKEY_SEAL, "totpseal", key);
            crypto_kdf_derive_from_key(digest_key, sizeof digest_key, SUBKEY_DIGEST, "digest__",
                                       key);
            sodium_mlock(seal_key, sizeof seal_key);
            sodium_mlock(digest_key, sizeof digest_key);
            atomic_store(&key_ready, 1);
        }
        sodium_memzero(key, sizeof key);
    }
    pthread_mutex_unlock(&key_mu);
    if (rc != 0)
        internal_error(ctx);
    return rc;
}

static int seal(portail_ctx_t *ctx, const unsigned char *raw, size_t n, const unsigned char **out,
                size_t *outlen)
{
    size_t len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    unsigned char *buf = portail_alloc(ctx->arena, len);
    randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, raw, n, buf, seal_key);
    *out = buf;
    *outlen = len;
    return 0;
}

/* raw must have room for PORTAIL_TOTP_SECRET_BYTES. */
static int unseal(portail_ctx_t *ctx, const unsigned char *sealed, size_t len, unsigned char *raw)
{
    if (!sealed ||
        len !=
            crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + PORTAIL_TOTP_SECRET_BYTES ||
        crypto_secretbox_open_easy(raw, sealed + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, sealed, seal_key) != 0) {
        /* Another key file than the one the secret was sealed with, or a
         * damaged row: nothing the member can fix. */
        portail_log_error(ctx, "totp: a sealed secret does not open with the current key file");
        internal_error(ctx);
        return -1;
    }
    return 0;
}

static const char *base32_of(portail_ctx_t *ctx, const unsigned char *raw, size_t n)
{
    char *b32 = NULL;
    size_t len = 0;
    if (oath_base32_encode((const char *)raw, n, &b32, &len) != OATH_OK || !b32) {
        portail_log_error(ctx, "totp: base32 encoding failed");
        internal_error(ctx);
        return NULL;
    }
    /* 20 bytes are 32 characters: no padding to strip. */
    const char *out = portail_strndup(ctx->arena, b32, len);
    sodium_memzero(b32, len);
    free(b32);
    return out;
}

int portail_totp_new(portail_ctx_t *ctx, portail_totp_secret_t *out)
{
    memset(out, 0, sizeof *out);
    if (key_load(ctx) != 0)
        return -1;
    unsigned char raw[PORTAIL_TOTP_SECRET_BYTES];
    randombytes_buf(raw, sizeof raw);
    out->base32 = base32_of(ctx, raw, sizeof raw);
    int rc = out->base32 ? seal(ctx, raw, sizeof raw, &out->sealed, &out->sealed_len) : -1;
    sodium_memzero(raw, sizeof raw);
    return rc;
}

int portail_totp_seal_base32(portail_ctx_t *ctx, const char *base32, portail_totp_secret_t *out)
{
    memset(out, 0, sizeof *out);
    if (key_load(ctx) != 0)
        return -1;
    char *raw = NULL;
    size_t n = 0;
    if (!base32 || oath_base32_decode(base32, strlen(base32), &raw, &n) != OATH_OK || !raw ||
        n != PORTAIL_TOTP_SECRET_BYTES) {
        if (raw) {
            sodium_memzero(raw, n);
            free(raw);
        }
        return -1;
    }
    out->base32 = base32_of(ctx, (const unsigned char *)raw, n);
    int rc =
        out->base32 ? seal(ctx, (const unsigned char *)raw, n, &out->sealed, &out->sealed_len) : -1;
    sodium_memzero(raw, n);
    free(raw);
    return rc;
}

const char *portail_totp_base32(portail_ctx_t *ctx, const unsigned char *sealed, size_t len)
{
    if (key_load(ctx) != 0)
        return NULL;
    unsigned char raw[PORTAIL_TOTP_SECRET_BYTES];
    if (unseal(ctx, sealed, len, raw) != 0)
        return NULL;
    const char *b32 = base32_of(ctx, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    return b32;
}

/* "123 456" -> "123456"; 0 when the result is exactly six digits. */
static int code_digits(const char *code, char out[DIGITS + 1])
{
    size_t n = 0;
    for (size_t i = 0; code && code[i]; i++) {
        if (i > 32)
            return -1;
        if (code[i] == ' ')
            continue;
        if (code[i] < '0' || code[i] > '9' || n == DIGITS)
            return -1;
        out[n++] = code[i];
    }
    out[n] = '\0';
    return n == DIGITS ? 0 : -1;
}

int portail_totp_code_ok(const char *code)
{
    char digits[DIGITS + 1];
    return code_digits(code, digits) == 0;
}

int portail_totp_verify(portail_ctx_t *ctx, const unsigned char *sealed, size_t sealed_len,
                        long long last_step, const char *code, long long *step)
{
    *step = -1;
    char digits[DIGITS + 1];
    if (code_digits(code, digits) != 0)
        return PORTAIL_TOTP_WRONG;
    if (key_load(ctx) != 0)
        return -1;
    unsigned char raw[PORTAIL_TOTP_SECRET_BYTES];
    if (unseal(ctx, sealed, sealed_len, raw) != 0)
        return -1;
    int pos = 0;
    uint64_t counter = 0;
    int rc = oath_totp_validate3((const char *)raw, sizeof raw, time(NULL), STEP_S,
                                 OATH_TOTP_DEFAULT_START_TIME, WINDOW, &pos, &counter, digits);
    sodium_memzero(raw, sizeof raw);
    if (rc == OATH_INVALID_OTP)
        return PORTAIL_TOTP_WRONG;
    if (rc < 0) {
        portail_log_error(ctx, "totp: liboath validation failed (%d)", rc);
        internal_error(ctx);
        return -1;
    }
    *step = (long long)counter;
    /* Each step once: a code for a step at or before the last one accepted
     * was seen already (or is older than one that was). */
    return last_step >= 0 && (long long)counter <= last_step ? PORTAIL_TOTP_REPLAY
                                                             : PORTAIL_TOTP_OK;
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void pct_append(char *out, size_t *o, const char *s, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p && max; p++, max--) {
        if (unreserved(*p)) {
            out[(*o)++] = (char)*p;
        } else {
            out[(*o)++] = '%';
            out[(*o)++] = hex[*p >> 4];
            out[(*o)++] = hex[*p & 15];
        }
    }
}

const char *portail_totp_uri(portail_arena_t *a, const char *label, const char *base32)
{
    if (!label || !base32)
        return NULL;
    /* Each byte may become three; the fixed parts are short. */
    size_t cap = 3 * (sizeof ISSUER * 2 + LABEL_MAX + strlen(base32)) + 128;
    char *out = portail_alloc(a, cap);
    size_t o = 0;
    memcpy(out, "otpauth://totp/", 15);
    o = 15;
    pct_append(out, &o, ISSUER, sizeof ISSUER);
    out[o++] = ':';
    pct_append(out, &o, label, LABEL_MAX);
    memcpy(out + o, "?secret=", 8);
    o += 8;
    pct_append(out, &o, base32, 128);
    memcpy(out + o, "&issuer=", 8);
    o += 8;
    pct_append(out, &o, ISSUER, sizeof ISSUER);
    static const char tail[] = "&algorithm=SHA1&digits=6&period=30";
    memcpy(out + o, tail, sizeof tail);
    return out;
}

const char *portail_qr_svg(portail_arena_t *a, const char *text)
{
    if (!text || strlen(text) > QR_TEXT_MAX)
        return NULL;
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr)
        return NULL;
    int w = qr->width, size = w + 2 * QR_MARGIN;
    /* At most one rect per module, each under 64 bytes. */
    size_t cap = (size_t)w * (size_t)w * 64 + 512;
    char *out = portail_alloc(a, cap);
    int o = snprintf(out, cap,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                     "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\" role=\"img\" "
                     "aria-label=\"Code QR à scanner avec votre application "
                     "d’authentification\">"
                     "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/><g fill=\"#000000\">",
                     size, size, size * 6, size * 6, size, size);
    for (int y = 0; y < w; y++) {
        for (int x = 0; x < w;) {
            if (!(qr->data[y * w + x] & 1)) {
                x++;
                continue;
            }
            int run = 1;
            while (x + run < w && (qr->data[y * w + x + run] & 1))
                run++;
            o += snprintf(out + o, cap - (size_t)o,
                          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"1\"/>", x + QR_MARGIN,
                          y + QR_MARGIN, run);
            x += run;
        }
    }
    snprintf(out + o, cap - (size_t)o, "</g></svg>");
    QRcode_free(qr);
    return out;
}

int portail_secret_digest(portail_ctx_t *ctx, const char *text,
                          unsigned char out[PORTAIL_DIGEST_BYTES])
{
    if (!text)
        return -1;
    if (key_load(ctx) != 0)
        return -1;
    crypto_generichash(out, PORTAIL_DIGEST_BYTES, (const unsigned char *)text, strlen(text),
                       digest_key, sizeof digest_key);
    return 0;
}
