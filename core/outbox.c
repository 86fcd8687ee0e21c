/* The mail outbox: mail is a row written in the caller's transaction, and a
 * sender thread delivers due rows, by file (development, tests) or SMTP.
 *
 * Each row is claimed (next_attempt_at pushed ahead) before it is sent, so
 * that two portaild processes, or portailctl beside a running portaild,
 * never both send it. A crash between sending and marking sends it twice at
 * most, after the claim expires: duplicated mail beats lost mail. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"

#define BATCH 20
#define CLAIM_S 60
#define MAX_DELAY_S 3600
#define ERR_MAX 500
#define RECIPIENT_MAX 254
#define SUBJECT_MAX 255
#define SMTP_CONNECT_TIMEOUT_S 10L
/* Below CLAIM_S, so that a slow server cannot outlive the claim. */
#define SMTP_TIMEOUT_S 30L
#define QP_LINE 76
/* 45 bytes of UTF-8 give 60 base64 characters: each encoded word stays
 * within the 75 characters RFC 2047 allows. */
#define EW_CHUNK 45

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool running;
} ob = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Read without the lock by curl's progress callback, to abort a transfer. */
static atomic_bool ob_stop;

/* ---- enqueue -------------------------------------------------------------- */

/* One plain address: what goes into both RCPT TO and the To header, so
 * nothing that could split into several recipients or headers. */
static int recipient_ok(const char *to)
{
    if (!to)
        return 0;
    size_t n = strlen(to);
    if (n < 3 || n > RECIPIENT_MAX)
        return 0;
    const char *at = strchr(to, '@');
    if (!at || at == to || at[1] == '\0' || strchr(at + 1, '@'))
        return 0;
    for (const unsigned char *p = (const unsigned char *)to; *p; p++)
        if (*p <= 0x20 || *p == 0x7F || strchr("<>()[],;:\\\"", *p))
            return 0;
    return 1;
}

static int subject_ok(const char *s)
{
    if (!s || strlen(s) > SUBJECT_MAX)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return 0;
    return 1;
}

int portail_mail_enqueue(portail_db_t *db, const char *to, const char *subject,
                         const char *body_text)
{
    /* The address is personal data: the log says only what was wrong. */
    const char *bad = !db                    ? "no database"
                      : !recipient_ok(to)    ? "invalid recipient"
                      : !subject_ok(subject) ? "invalid subject"
                      : !body_text           ? "no body"
                                             : NULL;
    if (bad) {
        portail_logf("error", NULL, "mail refused: %s", bad);
        return -1;
    }
    long long n = portail_db_exec(db,
                                  "INSERT INTO mail_outbox (recipient, subject, body, "
                                  "next_attempt_at) VALUES (?, ?, ?, UTC_TIMESTAMP())",
                                  "sss", to, subject, body_text);
    return n == 1 ? 0 : -1;
}

/* ---- message building ----------------------------------------------------- */

static int is_ascii_printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7E)
            return 0;
    return 1;
}

static size_t utf8_len_at(const unsigned char *p)
{
    if (*p < 0x80)
        return 1;
    if ((*p & 0xE0) == 0xC0)
        return 2;
    if ((*p & 0xF0) == 0xE0)
        return 3;
    if ((*p & 0xF8) == 0xF0)
        return 4;
    return 1;
}

/* RFC 2047 encoded words, split on character boundaries and folded. */
static void put_encoded(FILE *f, const char *s)
{
    size_t n = strlen(s);
    size_t i = 0;
    int first = 1;
    while (i < n) {
        size_t chunk = 0;
        while (i + chunk < n) {
            size_t l = utf8_len_at((const unsigned char *)s + i + chunk);
            if (i + chunk + l > n)
                l = n - i - chunk;
            if (chunk + l > EW_CHUNK && chunk > 0)
                break;
            chunk += l;
        }
        char b64[sodium_base64_ENCODED_LEN(EW_CHUNK + 4, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s + i, chunk,
                          sodium_base64_VARIANT_ORIGINAL);
        fprintf(f, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", b64);
        first = 0;
        i += chunk;
    }
}

static void put_header_text(FILE *f, const char *s)
{
    if (is_ascii_printable(s) && strlen(s) <= 900)
        fputs(s, f);
    else
        put_encoded(f, s);
}

/* "Name <addr>" -> display name and address; a bare address has no name. */
static void split_from(portail_arena_t *a, const char *from, const char **name, const char **addr)
{
    const char *lt = strrchr(from, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (!lt || !gt) {
        *name = NULL;
        *addr = from;
        return;
    }
    *addr = portail_strndup(a, lt + 1, (size_t)(gt - lt - 1));
    const char *b = from, *e = lt;
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (e > b + 1 && *b == '"' && e[-1] == '"') {
        b++;
        e--;
    }
    *name = e > b ? portail_strndup(a, b, (size_t)(e - b)) : NULL;
}

static void put_from(FILE *f, const char *name, const char *addr)
{
    fputs("From: ", f);
    if (name) {
        if (!is_ascii_printable(name)) {
            put_encoded(f, name);
        } else if (strpbrk(name, "()<>[]:;@\\,.\"")) {
            fputc('"', f);
            for (const char *p = name; *p; p++) {
                if (*p == '"' || *p == '\\')
                    fputc('\\', f);
                fputc(*p, f);
            }
            fputc('"', f);
        } else {
            fputs(name, f);
        }
        fprintf(f, " <%s>\r\n", addr);
    } else {
        fprintf(f, "%s\r\n", addr);
    }
}

/* RFC 5322 date, English names whatever the locale. */
static void put_date(FILE *f, const char *iso)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm = {0};
    time_t t = time(NULL);
    int y, mo, d, h, mi, s;
    if (iso && sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) == 6) {
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = s;
        time_t parsed = timegm(&tm);
        if (parsed != (time_t)-1)
            t = parsed;
    }
    gmtime_r(&t, &tm);
    fprintf(f, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday,
            months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Calls fn for each line of body without its terminator (LF, CRLF or CR). */
static void each_line(const char *body, void (*fn)(FILE *, const char *, size_t), FILE *f)
{
    const char *p = body;
    while (*p) {
        size_t n = strcspn(p, "\r\n");
        fn(f, p, n);
        p += n;
        if (*p == '\r' && p[1] == '\n')
            p += 2;
        else if (*p)
            p++;
    }
}

/* Quoted-printable (RFC 2045 6.7): lines of at most 76 characters, so a
 * body line of any length travels; "=" is always encoded, so the boundary
 * "=_portail..." can never appear inside a part. */
static void put_line_qp(FILE *f, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int last = i + 1 == n;
        int literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
        /* A line starting with "." or "From " is left alone by QP; a dot
         * first is encoded anyway, for transports that would stuff it. */
        if (col == 0 && c == '.')
            literal = 0;
        size_t w = literal ? 1 : 3;
        /* keep room for the soft break "=" */
        if (col + w > QP_LINE - 1) {
            fputs("=\r\n", f);
            col = 0;
        }
        if (literal) {
            fputc(c, f);
        } else {
            fputc('=', f);
            fputc(hex[c >> 4], f);
            fputc(hex[c & 15], f);
        }
        col += w;
    }
    fputs("\r\n", f);
}

/* ---- the HTML part ---------------------------------------------------------
 * Made from the text, so that both parts always say the same: paragraphs at
 * blank lines, line breaks kept, addresses made links, everything else
 * escaped. Inline styles only: mail clients drop <style> and classes. */

/* Length of the web address at s (http:// or https://), without the
 * punctuation that ends a sentence; 0 when there is none. */
static size_t url_len(const char *s, size_t n)
{
    size_t start = n >= 8 && strncmp(s, "https://", 8) == 0  ? 8
                   : n >= 7 && strncmp(s, "http://", 7) == 0 ? 7
                                                             : 0;
    if (!start)
        return 0;
    size_t i = start;
    while (i < n && (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7F &&
           !strchr("<>\"'`", s[i]))
        i++;
    while (i > start && strchr(".,;:!?)", s[i - 1]))
        i--;
    return i > start ? i : 0;
}

static void html_line(FILE *f, const char *s, size_t n)
{
    size_t i = 0, from = 0;
    while (i < n) {
        size_t u = (i == 0 || s[i - 1] == ' ' || s[i - 1] == '(') ? url_len(s + i, n - i) : 0;
        if (!u) {
            i++;
            continue;
        }
        portail_html_write(f, s + from, i - from);
        fputs("<a href=\"", f);
        portail_html_write(f, s + i, u);
        fputs("\" style=\"color:#000091\">", f);
        portail_html_write(f, s + i, u);
        fputs("</a>", f);
        i += u;
        from = i;
    }
    portail_html_write(f, s + from, n - from);
}

/* The HTML document, LF line ends (the QP encoder makes them CRLF). */
static char *html_body(const char *subject, const char *body)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    fputs("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    portail_html_write(f, subject, strlen(subject));
    fputs("</title>\n</head>\n<body style=\"margin:0;padding:0;background:#f6f6f6\">\n"
          "<div style=\"max-width:600px;margin:0 auto;padding:24px 16px;background:#ffffff;"
          "font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;"
          "color:#161616\">\n",
          f);
    /* Paragraphs: runs of non-blank lines, joined by <br>. */
    const char *p = body;
    int open = 0;
    while (*p) {
        size_t n = strcspn(p, "\r\n");
        size_t blank = 0;
        while (blank < n && (p[blank] == ' ' || p[blank] == '\t'))
            blank++;
        if (blank == n) {
            if (open)
                fputs("</p>\n", f);
            open = 0;
        } else {
            fputs(open ? "<br>\n" : "<p style=\"margin:0 0 16px\">", f);
            open = 1;
            html_line(f, p, n);
        }
        p += n;
        if (*p == '\r' && p[1] == '\n')
            p += 2;
        else if (*p)
            p++;
    }
    if (open)
        fputs("</p>\n", f);
    fputs("</div>\n</body>\n</html>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The whole message with CRLF line ends, in the arena: multipart/alternative,
 * the text then the HTML (the last part is the preferred one), both UTF-8
 * and quoted-printable. */
static char *build_message(portail_arena_t *a, const portail_conf_t *c, long long id,
                           const char *to, const char *subject, const char *body,
                           const char *created_at, size_t *len)
{
    char *html = html_body(subject, body);
    if (!html)
        return NULL;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) {
        free(html);
        return NULL;
    }
    unsigned char rnd[12];
    char boundary[64], hex[2 * sizeof rnd + 1];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(boundary, sizeof boundary, "=_portail_%lld_%s", id, hex);
    const char *name, *addr;
    split_from(a, c->mail_from, &name, &addr);
    put_from(f, name, addr);
    fprintf(f, "To: %s\r\n", to);
    fputs("Subject: ", f);
    put_header_text(f, subject);
    fputs("\r\n", f);
    put_date(f, created_at);
    fprintf(f, "Message-ID: <outbox-%lld@portail>\r\n", id);
    fprintf(f,
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
            boundary);
    fprintf(f,
            "--%s\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            boundary);
    each_line(body, put_line_qp, f);
    fprintf(f,
            "\r\n--%s\r\n"
            "Content-Type: text/html; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            boundary);
    each_line(html, put_line_qp, f);
    fprintf(f, "\r\n--%s--\r\n", boundary);
    free(html);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    char *out = portail_memdup(a, buf, size + 1);
    free(buf);
    *len = size;
    return out;
}

/* ---- transports ----------------------------------------------------------- */

static int mkdir_p(const char *path, mode_t mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Written under a dot-name then renamed: whoever lists *.eml sees whole
 * messages only. */
static int deliver_file(const portail_conf_t *c, long long id, const char *msg, size_t len,
                        char *err, size_t errlen)
{
    const char *dir = c->mail_dir && *c->mail_dir ? c->mail_dir : ".";
    if (mkdir_p(dir, 0750) != 0) {
        snprintf(err, errlen, "mail_dir: %s", strerror(errno));
        return -1;
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    char tmp[4096], final[4096];
    if (snprintf(tmp, sizeof tmp, "%s/.%s-%lld.eml.tmp", dir, stamp, id) >= (int)sizeof tmp ||
        snprintf(final, sizeof final, "%s/%s-%lld.eml", dir, stamp, id) >= (int)sizeof final) {
        snprintf(err, errlen, "mail_dir: path too long");
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, errlen, "open: %s", strerror(errno));
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, msg + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "write: %s", strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        snprintf(err, errlen, "fsync: %s", strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, final) != 0) {
        snprintf(err, errlen, "rename: %s", strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

typedef struct upload {
    const char *p;
    size_t left;
} upload_t;

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    upload_t *u = ud;
    size_t n = size * nitems;
    if (n > u->left)
        n = u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return atomic_load(&ob_stop) ? 1 : 0;
}

/* 0 sent; -1 failed. *down when the server could not be reached at all, so
 * the round stops instead of timing out once per mail. */
static int deliver_smtp(CURL **curlp, const portail_conf_t *c, const char *env_from, const char *to,
                        const char *msg, size_t len, char *err, size_t errlen, int *down)
{
    if (!c->smtp_url || !*c->smtp_url) {
        snprintf(err, errlen, "smtp_url is not set");
        *down = 1;
        return -1;
    }
    if (!*curlp && !(*curlp = curl_easy_init())) {
        snprintf(err, errlen, "curl_easy_init failed");
        *down = 1;
        return -1;
    }
    CURL *curl = *curlp;
    /* reset keeps the connection cache: mails of a round share one SMTP
     * session when the server allows it. */
    curl_easy_reset(curl);
    char errbuf[CURL_ERROR_SIZE] = "";
    char from[320], rcpt[320];
    snprintf(from, sizeof from, "<%s>", env_from);
    snprintf(rcpt, sizeof rcpt, "<%s>", to);
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    if (!rcpts) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    upload_t up = {msg, len};
    curl_easy_setopt(curl, CURLOPT_URL, c->smtp_url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, SMTP_CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, SMTP_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress_cb);
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(rcpts);
    /* errbuf must not outlive this frame inside the handle */
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    if (rc == CURLE_OK)
        return 0;
    snprintf(err, errlen, "%s%s%s", curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
    *down = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
            rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_ABORTED_BY_CALLBACK ||
            rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT;
    return -1;
}

/* ---- one round ------------------------------------------------------------ */

static int backoff_s(int retry_s, long long attempts)
{
    long long d = retry_s > 0 ? retry_s : 1;
    for (long long i = 0; i < attempts && d < MAX_DELAY_S; i++)
        d *= 2;
    return d > MAX_DELAY_S ? MAX_DELAY_S : (int)d;
}

/* Only whole characters, and no control bytes, reach last_error. */
static void clean_error(char *s)
{
    size_t n = strlen(s);
    if (n > ERR_MAX) {
        n = ERR_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        s[n] = '\0';
    }
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F || *p >= 0x80)
            *p = '?';
}

/* An outage (server unreachable) is not any mail's fault: the sender pauses
 * as a whole, doubling from retry_seconds up to this, and no mail's
 * attempts are counted. */
#define OUTAGE_MAX_S 300
/* The backlog is looked at this often, and reported at most this often. */
#define BACKLOG_CHECK_S 10
#define BACKLOG_LOG_S 60

int portail_outbox_backlog(portail_db_t *db, long long *count, long long *oldest_s)
{
    json_t *row = portail_db_row(db,
                                 "SELECT COUNT(*) AS n, "
                                 "TIMESTAMPDIFF(SECOND, MIN(created_at), UTC_TIMESTAMP()) AS age "
                                 "FROM mail_outbox WHERE sent_at IS NULL",
                                 "");
    if (!row)
        return -1;
    *count = portail_row_int(row, "n", 0);
    *oldest_s = *count > 0 ? portail_row_int(row, "age", 0) : -1;
    return 0;
}

/* Mail older than mail.alert_after_seconds and still not delivered (an
 * outage, or attempts used up) is reported rather than left to vanish. */
static void check_backlog(const portail_conf_t *c, portail_db_t *db)
{
    static _Thread_local time_t next_check, next_log;
    time_t now = time(NULL);
    if (now < next_check)
        return;
    next_check = now + BACKLOG_CHECK_S;
    long long n = 0, age = -1;
    if (portail_outbox_backlog(db, &n, &age) != 0)
        return;
    if (n == 0 || age < c->mail_alert_after_s) {
        next_log = 0;
        return;
    }
    if (now < next_log)
        return;
    next_log = now + BACKLOG_LOG_S;
    portail_logf("error", NULL,
                 "mail outbox backlog: %lld undelivered, the oldest for %lld s (alert after %d s)",
                 n, age, c->mail_alert_after_s);
}

/* Sent count, or -1 when the database could not be used. */
static int run_round(portail_host_t *h, portail_arena_t *a, CURL **curl)
{
    static _Thread_local bool db_down_logged;
    static _Thread_local int outages;
    static _Thread_local time_t paused_until;
    const portail_conf_t *c = h->conf;
    int why = PORTAIL_POOL_OK;
    portail_db_t *db = portail_pool_acquire(h->pool, a, "outbox", c->db.acquire_timeout_ms, &why);
    if (!db) {
        if (!db_down_logged)
            portail_logf("warn", NULL, "mail sender: no database connection, will retry");
        db_down_logged = true;
        return -1;
    }
    db_down_logged = false;
    check_backlog(c, db);
    if (time(NULL) < paused_until) {
        portail_pool_release(db);
        return 0;
    }

    int max_attempts = c->mail_max_attempts > 0 ? c->mail_max_attempts : 1;
    json_t *rows = portail_db_rows(db,
                                   "SELECT id, recipient, subject, body, attempts, created_at "
                                   "FROM mail_outbox WHERE sent_at IS NULL "
                                   "AND next_attempt_at <= UTC_TIMESTAMP() AND attempts < ? "
                                   "ORDER BY next_attempt_at, id LIMIT ?",
                                   "ii", max_attempts, BATCH);
    if (!rows) {
        portail_pool_release(db);
        return -1;
    }
    bool smtp = c->mail_transport && strcmp(c->mail_transport, "smtp") == 0;
    const char *env_from = NULL, *from_name = NULL;
    if (c->mail_from)
        split_from(a, c->mail_from, &from_name, &env_from);
    int sent = 0;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (atomic_load(&ob_stop))
            break;
        long long id = portail_row_int(row, "id", 0);
        long long n = portail_db_exec(db,
                                      "UPDATE mail_outbox SET next_attempt_at = UTC_TIMESTAMP() "
                                      "+ INTERVAL ? SECOND WHERE id = ? AND sent_at IS NULL "
                                      "AND next_attempt_at <= UTC_TIMESTAMP()",
                                      "il", CLAIM_S, id);
        if (n < 0)
            break;
        if (n == 0)
            continue; /* another sender has it */
        const char *to = portail_row_str(row, "recipient");
        const char *subject = portail_row_str(row, "subject");
        const char *body = portail_row_str(row, "body");
        long long attempts = portail_row_int(row, "attempts", 0);
        char err[CURL_ERROR_SIZE + 128] = "";
        int down = 0, rc = -1;
        size_t len = 0;
        char *msg = NULL;
        if (!env_from) {
            snprintf(err, sizeof err, "mail_from is not set");
        } else if (!to || !subject || !body) {
            snprintf(err, sizeof err, "incomplete row");
        } else if (!(msg = build_message(a, c, id, to, subject, body,
                                         portail_row_str(row, "created_at"), &len))) {
            snprintf(err, sizeof err, "cannot build the message");
        } else if (smtp) {
            rc = deliver_smtp(curl, c, env_from, to, msg, len, err, sizeof err, &down);
        } else {
            rc = deliver_file(c, id, msg, len, err, sizeof err);
        }
        if (rc == 0) {
            sent++;
            if (outages)
                portail_logf("info", NULL, "mail sender: SMTP server reachable again");
            outages = 0;
            if (portail_db_exec(db,
                                /* The body carries bearer links (?token=): once
                                 * delivered it has no use here, so it is blanked
                                 * rather than kept (or sealed) until the purge. */
                                "UPDATE mail_outbox SET sent_at = UTC_TIMESTAMP(), "
                                "last_error = NULL, body = '' WHERE id = ?",
                                "l", id) < 0) {
                portail_logf("error", NULL, "mail %lld sent but not marked: may be sent again", id);
                break;
            }
            continue;
        }
        if (atomic_load(&ob_stop)) {
            /* Interrupted by shutdown: not the mail's fault, so no attempt
             * is counted and the next start picks it up at once. */
            portail_db_exec(db,
                            "UPDATE mail_outbox SET next_attempt_at = UTC_TIMESTAMP() "
                            "WHERE id = ? AND sent_at IS NULL",
                            "l", id);
            break;
        }
        clean_error(err);
        if (down) {
            /* Not this mail's failure: no attempt counted, the mail stays
             * first in line, and the sender pauses. */
            int pause = backoff_s(c->mail_retry_s, outages);
            if (pause > OUTAGE_MAX_S)
                pause = OUTAGE_MAX_S;
            outages++;
            paused_until = time(NULL) + pause;
            portail_logf("warn", NULL, "mail sender: SMTP unreachable (%s), next try in %d s", err,
                         pause);
            portail_db_exec(db,
                            "UPDATE mail_outbox SET next_attempt_at = UTC_TIMESTAMP(), "
                            "last_error = ? WHERE id = ? AND sent_at IS NULL",
                            "sl", err, id);
            break;
        }
        int delay = backoff_s(c->mail_retry_s, attempts);
        if (attempts + 1 >= max_attempts)
            portail_logf("error", NULL, "mail %lld abandoned after %lld attempts: %s", id,
                         attempts + 1, err);
        else
            portail_logf("warn", NULL, "mail %lld not delivered (attempt %lld, next in %d s): %s",
                         id, attempts + 1, delay, err);
        if (portail_db_exec(db,
                            "UPDATE mail_outbox SET attempts = attempts + 1, "
                            "next_attempt_at = UTC_TIMESTAMP() + INTERVAL ? SECOND, "
                            "last_error = ? WHERE id = ?",
                            "isl", delay, err, id) < 0)
            break;
    }

    portail_pool_release(db);
    return sent;
}

/* ---- the thread ----------------------------------------------------------- */

static void *sender_main(void *arg)
{
    portail_host_t *h = arg;
    mysql_thread_init();
    portail_arena_t *a = portail_arena_new(64 * 1024);
    CURL *curl = NULL;
    pthread_mutex_lock(&ob.mu);
    while (!atomic_load(&ob_stop)) {
        pthread_mutex_unlock(&ob.mu);
        run_round(h, a, &curl);
        portail_arena_reset(a);
        pthread_mutex_lock(&ob.mu);
        struct timespec deadline;
        portail_deadline_in(&deadline, h->conf->mail_poll_ms > 0 ? h->conf->mail_poll_ms : 500);
        while (!atomic_load(&ob_stop) &&
               pthread_cond_timedwait(&ob.cv, &ob.mu, &deadline) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&ob.mu);
    if (curl)
        curl_easy_cleanup(curl);
    portail_arena_free(a);
    mysql_thread_end();
    return NULL;
}

int portail_outbox_start(portail_host_t *h)
{
    pthread_mutex_lock(&ob.mu);
    if (ob.running) {
        pthread_mutex_unlock(&ob.mu);
        return 0;
    }
    /* A wall-clock jump must not stall or rush the poll. */
    if (portail_cond_init_monotonic(&ob.cv) != 0) {
        pthread_mutex_unlock(&ob.mu);
        return -1;
    }
    atomic_store(&ob_stop, false);
    if (pthread_create(&ob.thread, NULL, sender_main, h) != 0) {
        pthread_cond_destroy(&ob.cv);
        pthread_mutex_unlock(&ob.mu);
        portail_logf("error", NULL, "mail sender: cannot start its thread");
        return -1;
    }
    ob.running = true;
    pthread_mutex_unlock(&ob.mu);
    return 0;
}

void portail_outbox_stop(void)
{
    pthread_mutex_lock(&ob.mu);
    if (!ob.running) {
        pthread_mutex_unlock(&ob.mu);
        return;
    }
    atomic_store(&ob_stop, true);
    pthread_cond_signal(&ob.cv);
    pthread_t t = ob.thread;
    ob.running = false;
    pthread_mutex_unlock(&ob.mu);
    pthread_join(t, NULL);
    pthread_cond_destroy(&ob.cv);
}

int portail_outbox_flush(portail_host_t *h)
{
    portail_arena_t *a = portail_arena_new(64 * 1024);
    CURL *curl = NULL;
    int n = run_round(h, a, &curl);
    portail_arena_reset(a);
    if (curl)
        curl_easy_cleanup(curl);
    portail_arena_free(a);
    return n;
}
