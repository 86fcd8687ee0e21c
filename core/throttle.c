/* Fixed-window counters in MariaDB, so that every portaild behind the same
 * database sees the same counts (per-IP sign-in failures, reset requests). */
#include <string.h>

#include "internal.h"

#define KEY_MAX 190

int portail_throttle_check(portail_db_t *db, const char *key, int window_s, int max)
{
    if (!key || strlen(key) > KEY_MAX || window_s <= 0 || max <= 0)
        return -1;
    json_t *row = portail_db_row(db,
                                 "SELECT hits, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), "
                                 "window_start + INTERVAL ? SECOND) AS remaining "
                                 "FROM throttle WHERE k = ?",
                                 "is", window_s, key);
    if (!row)
        return portail_db_failed(db) ? -1 : 0;
    long long remaining = portail_row_int(row, "remaining", 0);
    if (remaining <= 0 || portail_row_int(row, "hits", 0) < max)
        return 0;
    return (int)remaining;
}

int portail_throttle_hit(portail_db_t *db, const char *key, int window_s, int max)
{
    if (!key || strlen(key) > KEY_MAX || window_s <= 0 || max <= 0)
        return -1;
    /* Assignments run left to right: hits is decided on the old window. */
    if (portail_db_exec(
            db,
            "INSERT INTO throttle (k, window_start, hits) VALUES (?, UTC_TIMESTAMP(), 1) "
            "ON DUPLICATE KEY UPDATE "
            "hits = IF(window_start + INTERVAL ? SECOND <= UTC_TIMESTAMP(), 1, hits + 1), "
            "window_start = IF(window_start + INTERVAL ? SECOND <= UTC_TIMESTAMP(), "
            "UTC_TIMESTAMP(), window_start)",
            "sii", key, window_s, window_s) < 0)
        return -1;
    return portail_throttle_check(db, key, window_s, max);
}

int portail_throttle_clear(portail_db_t *db, const char *key)
{
    if (!key || strlen(key) > KEY_MAX)
        return -1;
    return portail_db_exec(db, "DELETE FROM throttle WHERE k = ?", "s", key) < 0 ? -1 : 0;
}
