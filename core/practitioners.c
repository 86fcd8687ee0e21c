/* The directory of practitioners: core data because several modules read
 * it (coverage's médecin traitant, appointments) and modules never call
 * each other. */
#include <ctype.h>
#include <string.h>

#include "portail/practitioners.h"

#define COLUMNS                                                                                    \
    "id, rpps, last_name, first_name, specialty, address_line, postal_code, city, "                \
    "accepts_new_patients"

int portail_rpps_valid(const char *s)
{
    if (!s || strlen(s) != 11)
        return 0;
    int sum = 0;
    /* Luhn: from the right, every second digit (starting with the one left of
     * the check digit) is doubled. */
    for (int i = 10, k = 0; i >= 0; i--, k++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        int d = s[i] - '0';
        if (k % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

json_t *portail_practitioner_get(portail_db_t *db, int64_t id)
{
    if (!db || id <= 0)
        return NULL;
    return portail_db_row(db, "SELECT " COLUMNS " FROM practitioners WHERE id = ?", "l",
                          (long long)id);
}

json_t *portail_practitioners_search(portail_db_t *db, const char *place, const char *name,
                                     int gp_only, int64_t after, int limit)
{
    if (!db)
        return NULL;
    if (limit < 1)
        limit = 1;
    if (limit > 100)
        limit = 100;
    const char *p = place ? place : "";
    const char *n = name ? name : "";
    /* Bounded inputs: a place or a name longer than the columns would match
     * nothing anyway. */
    if (strnlen(p, 101) > 100)
        p = "-";
    if (strnlen(n, 101) > 100)
        n = "-";
    return portail_db_rows(
        db,
        "SELECT " COLUMNS " FROM practitioners WHERE id > ? "
        "AND (? = '' OR city = ? OR postal_code = ?) "
        "AND (? = '' OR last_name LIKE CONCAT(REPLACE(REPLACE(?, '%', ''), '_', ''), '%')) "
        "AND (? = 0 OR (specialty = 'Médecine générale' AND accepts_new_patients = 1)) "
        "ORDER BY id LIMIT ?",
        "lsssssii", (long long)after, p, p, p, n, n, gp_only ? 1 : 0, limit);
}

json_t *portail_member_doctor(portail_db_t *db, int64_t insured_id)
{
    if (!db || insured_id <= 0)
        return NULL;
    return portail_db_row(db,
                          "SELECT p.id, p.rpps, p.last_name, p.first_name, p.specialty, "
                          "p.address_line, p.postal_code, p.city, p.accepts_new_patients, "
                          "d.since FROM member_doctors d "
                          "JOIN practitioners p ON p.id = d.practitioner_id "
                          "WHERE d.insured_id = ?",
                          "l", (long long)insured_id);
}

int portail_member_doctor_set(portail_db_t *db, int64_t insured_id, int64_t practitioner_id)
{
    if (!db || insured_id <= 0 || practitioner_id < 0)
        return -1;
    if (practitioner_id == 0)
        return portail_db_exec(db, "DELETE FROM member_doctors WHERE insured_id = ?", "l",
                               (long long)insured_id) < 0
                   ? -1
                   : 0;
    /* The date moves only when the doctor changes. */
    return portail_db_exec(db,
                           "INSERT INTO member_doctors (insured_id, practitioner_id, since) "
                           "VALUES (?, ?, UTC_DATE()) ON DUPLICATE KEY UPDATE "
                           "since = IF(practitioner_id = VALUES(practitioner_id), since, "
                           "VALUES(since)), practitioner_id = VALUES(practitioner_id)",
                           "ll", (long long)insured_id, (long long)practitioner_id) < 0
               ? -1
               : 0;
}
