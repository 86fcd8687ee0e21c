/* One JSON object per line, written with a single write(2) on an O_APPEND
 * descriptor so that lines from concurrent threads never interleave. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define LOG_LINE_MAX 8192

static atomic_int log_fd = 2;
static char log_path[4096];

/* Access lines are buffered per thread, like nginx's `access_log ...
 * buffer=`: one write(2) per request costs a measurable share of a trivial
 * request. A line waits at most about a second (the main thread flushes every
 * buffer each second) and every buffer is flushed at stop and on SIGHUP. */
#define ACCESS_BUF 16384
#define MAX_ACCESS_BUFS 1024

struct access_buf {
    pthread_mutex_t mu;
    size_t len;
    char data[ACCESS_BUF];
};

static pthread_mutex_t bufs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct access_buf *bufs[MAX_ACCESS_BUFS];
static size_t nbufs;
static _Thread_local struct access_buf *my_buf;
static atomic_int buffering = 1;

static int open_path(void)
{
    return open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

int portail_log_open(const char *path)
{
    if (!path || !*path || strcmp(path, "-") == 0) {
        log_path[0] = '\0';
        atomic_store(&log_fd, 2);
        return 0;
    }
    if (strlen(path) >= sizeof(log_path))
        return -1;
    strcpy(log_path, path);
    int fd = open_path();
    if (fd < 0)
        return -1;
    atomic_store(&log_fd, fd);
    return 0;
}

void portail_log_reopen(void)
{
    portail_log_flush();
    if (!log_path[0])
        return;
    int fd = open_path();
    if (fd < 0)
        return; /* keep writing to the old file rather than lose lines */
    /* A writer may have loaded the descriptor number just before: dup2
     * swaps the file under that same number atomically, so a late write
     * lands in the new file instead of a closed (or reused) descriptor. */
    int cur = atomic_load(&log_fd);
    if (cur > 2) {
        int rc;
        do
            rc = dup2(fd, cur);
        while (rc < 0 && errno == EINTR);
        if (rc >= 0) /* dup2 drops close-on-exec */
            fcntl(cur, F_SETFD, FD_CLOEXEC);
        close(fd);
        return;
    }
    atomic_store(&log_fd, fd);
}

void portail_log_close(void)
{
    portail_log_flush();
    /* Called once the workers are gone: their buffers can go too. */
    pthread_mutex_lock(&bufs_mu);
    for (size_t i = 0; i < nbufs; i++) {
        pthread_mutex_destroy(&bufs[i]->mu);
        free(bufs[i]);
    }
    nbufs = 0;
    pthread_mutex_unlock(&bufs_mu);
    int old = atomic_exchange(&log_fd, 2);
    if (old > 2)
        close(old);
}

void portail_log_raw(const char *line, size_t len)
{
    int fd = atomic_load(&log_fd);
    while (len > 0) {
        ssize_t n = write(fd, line, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        line += n;
        len -= (size_t)n;
    }
}

void portail_log_buffering(int on)
{
    atomic_store(&buffering, on);
}

static void flush_locked(struct access_buf *b)
{
    if (b->len) {
        portail_log_raw(b->data, b->len);
        b->len = 0;
    }
}

void portail_log_access(const char *line, size_t len)
{
    if (!atomic_load(&buffering) || len >= ACCESS_BUF) {
        portail_log_raw(line, len);
        return;
    }
    if (!my_buf) {
        struct access_buf *b = calloc(1, sizeof(*b));
        pthread_mutex_lock(&bufs_mu);
        if (b && nbufs < MAX_ACCESS_BUFS) {
            pthread_mutex_init(&b->mu, NULL);
            bufs[nbufs++] = b;
            my_buf = b;
        } else {
            free(b);
        }
        pthread_mutex_unlock(&bufs_mu);
        if (!my_buf) {
            portail_log_raw(line, len);
            return;
        }
    }
    pthread_mutex_lock(&my_buf->mu);
    if (my_buf->len + len > ACCESS_BUF)
        flush_locked(my_buf);
    memcpy(my_buf->data + my_buf->len, line, len);
    my_buf->len += len;
    pthread_mutex_unlock(&my_buf->mu);
}

void portail_log_flush(void)
{
    pthread_mutex_lock(&bufs_mu);
    for (size_t i = 0; i < nbufs; i++) {
        pthread_mutex_lock(&bufs[i]->mu);
        flush_locked(bufs[i]);
        pthread_mutex_unlock(&bufs[i]->mu);
    }
    pthread_mutex_unlock(&bufs_mu);
}

size_t portail_json_escape(char *dst, size_t len, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (!s)
        s = "";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char buf[7];
        size_t n;
        if (*p >= 0x80) {
            /* Valid UTF-8 is copied whole (a truncation never splits a
             * character); a stray byte becomes U+FFFD, so that a line
             * carrying a client's raw bytes stays valid JSON. */
            size_t seq = portail_utf8_seq(p, strnlen((const char *)p, 4));
            if (seq == 0) {
                memcpy(buf, "\\ufffd", 6);
                n = 6;
            } else {
                if (len + seq + 1 > cap)
                    break;
                memcpy(dst + len, p, seq);
                len += seq;
                p += seq - 1;
                continue;
            }
        } else if (*p == '"' || *p == '\\') {
            buf[0] = '\\';
            buf[1] = (char)*p;
            n = 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            buf[0] = '\\';
            buf[1] = 'u';
            buf[2] = '0';
            buf[3] = '0';
            buf[4] = hex[*p >> 4];
            buf[5] = hex[*p & 15];
            n = 6;
        } else {
            buf[0] = (char)*p;
            n = 1;
        }
        if (len + n + 1 > cap)
            break;
        memcpy(dst + len, buf, n);
        len += n;
    }
    if (cap)
        dst[len < cap ? len : cap - 1] = '\0';
    return len;
}

/* The date part changes once a second: each thread keeps it formatted. */
size_t portail_log_time(char *buf, size_t cap)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[24];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        if (strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
            cached[0] = '\0';
        cached_sec = ts.tv_sec;
    }
    size_t n = strlen(cached);
    if (cap < n + 6)
        return 0;
    memcpy(buf, cached, n);
    long ms = ts.tv_nsec / 1000000;
    buf[n++] = '.';
    buf[n++] = (char)('0' + ms / 100);
    buf[n++] = (char)('0' + ms / 10 % 10);
    buf[n++] = (char)('0' + ms % 10);
    buf[n++] = 'Z';
    buf[n] = '\0';
    return n;
}

void portail_vlogf(const char *level, const char *request_id, const char *fmt, va_list ap)
{
    char msg[4096];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    char line[LOG_LINE_MAX];
    char t[40];
    portail_log_time(t, sizeof(t));
    size_t n = (size_t)snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"", t);
    n = portail_json_escape(line, n, sizeof(line) - 4, level);
    if (request_id) {
        n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"request_id\":\"");
        n = portail_json_escape(line, n, sizeof(line) - 4, request_id);
    }
    n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"msg\":\"");
    n = portail_json_escape(line, n, sizeof(line) - 4, msg);
    memcpy(line + n, "\"}\n", 3);
    portail_log_raw(line, n + 3);
}

void portail_logf(const char *level, const char *request_id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    portail_vlogf(level, request_id, fmt, ap);
    va_end(ap);
}
