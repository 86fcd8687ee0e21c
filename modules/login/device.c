/* Module login: known devices (OWASP "slow down online guessing with
 * device cookies"). A browser that signed in with both factors gets
 * __Host-portail_device = "<member>.<device>.<expiry>.<mac>", the mac a
 * keyed digest under the key file (portail_secret_digest), the device a
 * row of member_devices that can be revoked. Strangers' failures lock the
 * account for unknown devices only; a known device has its own small
 * budget and can still sign in meanwhile. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "login.h"

#define DEVICE_COOKIE "__Host-portail_device"
#define DEVICE_HEX 32
#define COOKIE_MAX 200

static int device_mac(portail_ctx_t *ctx, long long member_id, const char *device, long long expiry,
                      char out[2 * PORTAIL_DIGEST_BYTES + 1])
{
    unsigned char d[PORTAIL_DIGEST_BYTES];
    const char *text = portail_sprintf(portail_arena(ctx), "device-cookie|%lld|%s|%lld", member_id,
                                       device, expiry);
    if (!text || portail_secret_digest(ctx, text, d) != 0)
        return -1;
    sodium_bin2hex(out, 2 * PORTAIL_DIGEST_BYTES + 1, d, sizeof d);
    return 0;
}

static int all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[n] == '\0';
}

/* The cookie's device when its signature holds for member_id and it has
 * not expired: 1 (device set), 0 not, -1 error. */
static int cookie_device(portail_ctx_t *ctx, int64_t member_id, char device[DEVICE_HEX + 1])
{
    const char *v = portail_req_cookie(ctx, DEVICE_COOKIE);
    if (!v || strlen(v) > COOKIE_MAX)
        return 0;
    char buf[COOKIE_MAX + 1];
    snprintf(buf, sizeof buf, "%s", v);
    char *dev = strchr(buf, '.');
    char *exp = dev ? strchr(dev + 1, '.') : NULL;
    char *mac = exp ? strchr(exp + 1, '.') : NULL;
    if (!mac)
        return 0;
    *dev++ = '\0';
    *exp++ = '\0';
    *mac++ = '\0';
    char *end;
    long long member = strtoll(buf, &end, 10);
    if (*end || end == buf || member != (long long)member_id)
        return 0;
    long long expiry = strtoll(exp, &end, 10);
    if (*end || end == exp || expiry <= (long long)time(NULL))
        return 0;
    if (strlen(dev) != DEVICE_HEX || !all_hex(dev, DEVICE_HEX) ||
        strlen(mac) != 2 * PORTAIL_DIGEST_BYTES)
        return 0;
    char want[2 * PORTAIL_DIGEST_BYTES + 1];
    if (device_mac(ctx, member, dev, expiry, want) != 0)
        return -1;
    if (sodium_memcmp(want, mac, 2 * PORTAIL_DIGEST_BYTES) != 0)
        return 0;
    memcpy(device, dev, DEVICE_HEX + 1);
    return 1;
}

int64_t device_known(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id)
{
    const login_state_t *st = login_settings(ctx);
    char device[DEVICE_HEX + 1];
    int rc = cookie_device(ctx, member_id, device);
    if (rc <= 0)
        return rc;
    json_t *row =
        portail_db_row(db,
                       "SELECT id FROM member_devices WHERE device = ? AND member_id = ? "
                       "AND revoked_at IS NULL AND expires_at > UTC_TIMESTAMP() "
                       "AND failures < ?",
                       "sll", device, (long long)member_id, (long long)st->device_max_failures);
    if (portail_db_failed(db)) {
        login_internal(ctx, "device lookup failed");
        return -1;
    }
    return row ? (int64_t)portail_row_int(row, "id", 0) : 0;
}

int device_remember(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id)
{
    const login_state_t *st = login_settings(ctx);
    long long life = (long long)st->device_days * 86400;
    long long expiry = (long long)time(NULL) + life;
    char device[DEVICE_HEX + 1];
    int rc = cookie_device(ctx, member_id, device);
    if (rc < 0)
        return -1;
    long long n = 0;
    if (rc == 1)
        n = portail_db_exec(db,
                            "UPDATE member_devices SET failures = 0, last_seen_at = "
                            "UTC_TIMESTAMP(), expires_at = FROM_UNIXTIME(?) "
                            "WHERE device = ? AND member_id = ? AND revoked_at IS NULL",
                            "lsl", expiry, device, (long long)member_id);
    if (n == 0) {
        unsigned char raw[DEVICE_HEX / 2];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(device, sizeof device, raw, sizeof raw);
        /* Old rows go as new ones come: the table holds live devices. */
        if (portail_db_exec(db,
                            "DELETE FROM member_devices WHERE member_id = ? AND "
                            "(revoked_at IS NOT NULL OR expires_at <= UTC_TIMESTAMP())",
                            "l", (long long)member_id) < 0)
            n = -1;
        else
            n = portail_db_exec(db,
                                "INSERT INTO member_devices (member_id, device, expires_at) "
                                "VALUES (?, ?, FROM_UNIXTIME(?))",
                                "lsl", (long long)member_id, device, expiry);
    }
    if (n < 0) {
        login_internal(ctx, "device not recorded");
        return -1;
    }
    char mac[2 * PORTAIL_DIGEST_BYTES + 1];
    if (device_mac(ctx, (long long)member_id, device, expiry, mac) != 0)
        return -1;
    portail_set_header(ctx, "Set-Cookie",
                       portail_sprintf(portail_arena(ctx),
                                       DEVICE_COOKIE "=%lld.%s.%lld.%s; Path=/; HttpOnly; "
                                                     "Secure; SameSite=Strict; Max-Age=%lld",
                                       (long long)member_id, device, expiry, mac, life));
    return 0;
}

int device_failure(portail_ctx_t *ctx, portail_db_t *db, int64_t member_id, int64_t device_id,
                   const char *email)
{
    const login_state_t *st = login_settings(ctx);
    if (portail_db_exec(db, "UPDATE member_devices SET failures = failures + 1 WHERE id = ?", "l",
                        (long long)device_id) < 0) {
        login_internal(ctx, "device failure not counted");
        return -1;
    }
    long long n = portail_db_exec(db,
                                  "UPDATE member_devices SET revoked_at = UTC_TIMESTAMP() "
                                  "WHERE id = ? AND failures >= ? AND revoked_at IS NULL",
                                  "ll", (long long)device_id, (long long)st->device_max_failures);
    if (n < 0) {
        login_internal(ctx, "device not revoked");
        return -1;
    }
    if (n == 0)
        return 0;
    if (portail_security_event(ctx, member_id, "device_blocked",
                               portail_sprintf(portail_arena(ctx), "%d mots de passe incorrects",
                                               st->device_max_failures)) != 0) {
        login_internal(ctx, "event not recorded");
        return -1;
    }
    return email ? member_mail(ctx, db, email, "device_blocked",
                               (const char *const[]){"where", login_where(ctx), NULL})
                 : 0;
}
