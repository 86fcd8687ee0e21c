/* The floor of bench/run's reimbursements figure: a bare threaded libfcgi
 * program doing what GET /api/v1/reimbursements?limit=20 does for a member
 * session and nothing else: the session cookie hashed as the core does
 * (BLAKE2b of the decoded token), the session row read, then the module's
 * page and totals queries, answered as JSON with jansson. One connection
 * per thread, text protocol, no checks beyond what the answer needs: the
 * least such a route can cost. */
#include <fcgiapp.h>
#include <jansson.h>
#include <mysql.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int listen_fd;
static const char *db_socket, *db_name;

#define COOKIE "__Host-portail_session="
#define TOKEN_CHARS 43

#define WHERE                                                                                      \
    "WHERE m.id = %lld AND p.cancelled_by IS NULL "                                                \
    "AND p.care_date >= GREATEST('1900-01-01', DATE_SUB(UTC_DATE(), INTERVAL 27 MONTH)) "          \
    "AND p.care_date <= '9999-12-31' AND (0 = 0 OR p.beneficiary_id <=> NULLIF(0, 0)) "            \
    "AND ('' = '' OR p.kind = '') AND ('' = '' OR p.status = '') "
#define FILTER "FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id " WHERE

static const char *const COLS[] = {"id",
                                   "beneficiary_id",
                                   "beneficiary",
                                   "care_date",
                                   "practitioner_name",
                                   "practitioner_specialty",
                                   "kind",
                                   "act_code",
                                   "act_label",
                                   "charged_cents",
                                   "base_cents",
                                   "rate_pct",
                                   "participation_cents",
                                   "franchise_cents",
                                   "reimbursed_cents",
                                   "paid_to",
                                   "status",
                                   "reject_reason",
                                   "received_on",
                                   "processing_on",
                                   "paid_on",
                                   "expected_payment_on"};
/* Which of COLS are integers in JSON. */
static const int NUMERIC[] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};

static void answer(FCGX_Request *req, int status, const char *body)
{
    /* FCGX_FPrintF has its own format parser (no %zu): the head is made here. */
    char head[160];
    size_t len = strlen(body);
    int n = snprintf(head, sizeof head,
                     "Status: %d\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     status, len);
    FCGX_PutStr(head, n, req->out);
    FCGX_PutStr(body, (int)len, req->out);
}

static long long member_of(MYSQL *db, const char *cookie)
{
    const char *v = cookie ? strstr(cookie, COOKIE) : NULL;
    if (!v)
        return 0;
    v += strlen(COOKIE);
    unsigned char raw[32], hash[32];
    size_t len = 0;
    if (strlen(v) < TOKEN_CHARS ||
        sodium_base642bin(raw, sizeof raw, v, TOKEN_CHARS, NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len != sizeof raw)
        return 0;
    crypto_generichash(hash, sizeof hash, raw, sizeof raw, NULL, 0);
    char hex[65], sql[300];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    snprintf(sql, sizeof sql,
             "SELECT principal_id FROM sessions WHERE token_hash = UNHEX('%s') "
             "AND kind = 'member' AND level = 1 AND expires_at > UTC_TIMESTAMP()",
             hex);
    if (mysql_query(db, sql) != 0)
        return -1;
    MYSQL_RES *res = mysql_store_result(db);
    MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
    long long id = row && row[0] ? atoll(row[0]) : 0;
    mysql_free_result(res);
    return id;
}

static char *reimbursements(MYSQL *db, long long member)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT p.id, p.beneficiary_id, COALESCE(CONCAT(b.first_name, ' ', b.last_name), "
             "CONCAT(i.first_name, ' ', i.last_name)) AS beneficiary, p.care_date, "
             "p.practitioner_name, "
             "p.practitioner_specialty, p.kind, p.act_code, p.act_label, p.charged_cents, "
             "p.base_cents, p.rate_pct, p.participation_cents, p.franchise_cents, "
             "p.reimbursed_cents, p.paid_to, p.status, p.reject_reason, p.received_on, "
             "p.processing_on, p.paid_on, p.expected_payment_on "
             "FROM reimb_payments p JOIN members m ON m.insured_id = p.insured_id "
             "JOIN insured i ON i.id = m.insured_id "
             "LEFT JOIN beneficiaries b ON b.id = p.beneficiary_id " WHERE
             "ORDER BY p.care_date DESC, p.id DESC LIMIT 21",
             member);
    if (mysql_query(db, sql) != 0)
        return NULL;
    MYSQL_RES *res = mysql_store_result(db);
    if (!res)
        return NULL;
    json_t *items = json_array();
    MYSQL_ROW row;
    const char *last_date = NULL;
    long long last_id = 0;
    size_t n = 0;
    char next[40] = "";
    while ((row = mysql_fetch_row(res))) {
        if (++n > 20) {
            snprintf(next, sizeof next, "%s.%lld", last_date, last_id);
            break;
        }
        json_t *o = json_object();
        for (size_t i = 0; i < sizeof COLS / sizeof *COLS; i++)
            json_object_set_new(o, COLS[i],
                                !row[i]      ? json_null()
                                : NUMERIC[i] ? json_integer(atoll(row[i]))
                                             : json_string(row[i]));
        json_array_append_new(items, o);
        last_date = json_string_value(json_object_get(o, "care_date"));
        last_id = atoll(row[0]);
    }
    mysql_free_result(res);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*), COALESCE(SUM(p.reimbursed_cents), 0), "
             "COALESCE(SUM(p.participation_cents), 0), COALESCE(SUM(p.franchise_cents), 0), "
             "COALESCE(SUM(p.charged_cents), 0) " FILTER,
             member);
    json_t *totals = NULL;
    if (mysql_query(db, sql) == 0 && (res = mysql_store_result(db))) {
        row = mysql_fetch_row(res);
        if (row)
            totals =
                json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "count", (json_int_t)atoll(row[0]),
                          "reimbursed_cents", (json_int_t)atoll(row[1]), "participation_cents",
                          (json_int_t)atoll(row[2]), "franchise_cents", (json_int_t)atoll(row[3]),
                          "charged_cents", (json_int_t)atoll(row[4]), "deductions_cents",
                          (json_int_t)(atoll(row[2]) + atoll(row[3])));
        mysql_free_result(res);
    }
    if (!totals) {
        json_decref(items);
        return NULL;
    }
    json_t *doc = json_pack("{s:o, s:o, s:o}", "items", items, "totals", totals, "next_cursor",
                            *next ? json_string(next) : json_null());
    char *out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return out;
}

static void *worker(void *arg)
{
    (void)arg;
    mysql_thread_init();
    MYSQL *db = mysql_init(NULL);
    if (!mysql_real_connect(db, NULL, "root", NULL, db_name, 0, db_socket, 0)) {
        fprintf(stderr, "reimb_floor: %s\n", mysql_error(db));
        exit(1);
    }
    mysql_set_character_set(db, "utf8mb4");
    FCGX_Request req;
    FCGX_InitRequest(&req, listen_fd, 0);
    while (FCGX_Accept_r(&req) >= 0) {
        long long member = member_of(db, FCGX_GetParam("HTTP_COOKIE", req.envp));
        char *body = member > 0 ? reimbursements(db, member) : NULL;
        if (body)
            answer(&req, 200, body);
        else if (member == 0)
            answer(&req, 401, "{\"status\":401}");
        else
            answer(&req, 500, "{\"status\":500}");
        free(body);
        FCGX_Finish_r(&req);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: reimb_floor SOCKET THREADS DB_SOCKET DB_NAME\n");
        return 2;
    }
    int n = atoi(argv[2]);
    if (n < 1 || n > 256 || sodium_init() < 0 || mysql_library_init(0, NULL, NULL))
        return 2;
    db_socket = argv[3];
    db_name = argv[4];
    FCGX_Init();
    listen_fd = FCGX_OpenSocket(argv[1], 256);
    if (listen_fd < 0)
        return 1;
    chmod(argv[1], 0666);
    pthread_t t[256];
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}
