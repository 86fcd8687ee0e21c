/* portaild: the FastCGI host. Worker threads accept on one socket; the main
 * thread only waits for signals, so that shutdown and log reopening never
 * run inside a signal handler. */
#include <curl/curl.h>
#include <errno.h>
#include <fcgiapp.h>
#include <malloc.h>
#include <mysql.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netdb.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct worker {
    pthread_t thread;
    int listen_fd;
    volatile sig_atomic_t idle; /* blocked in accept, safe to interrupt */
    volatile sig_atomic_t done;
};

static portail_host_t host;
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;

static void on_wake(int sig)
{
    (void)sig; /* only interrupts accept(2) */
}

/* Accepts and serves on fd until the host stops: the workers' loop and the
 * metrics listener's. idle is set while blocked in accept, where SIGUSR1 may
 * interrupt it; serve answers, finishes the request and resets the arena. */
static void accept_loop(int fd, size_t arena_size, volatile sig_atomic_t *idle,
                        void (*serve)(FCGX_Request *req, portail_arena_t *arena))
{
    mysql_thread_init();
    portail_arena_t *arena = portail_arena_new(arena_size);
    FCGX_Request req;
    /* An interrupted accept returns (the stop's SIGUSR1) rather than
     * being retried inside libfcgi. */
    FCGX_InitRequest(&req, fd, FCGI_FAIL_ACCEPT_ON_INTR);
    while (!host.stopping && arena) {
        *idle = 1;
        if (host.stopping)
            break;
        int rc = FCGX_Accept_r(&req);
        *idle = 0;
        if (rc < 0) {
            if (host.stopping)
                break;
            /* A transient accept failure: do not spin. */
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        serve(&req, arena);
    }
    FCGX_Free(&req, 1);
    portail_arena_free(arena);
    mysql_thread_end();
}

static void serve_request(FCGX_Request *req, portail_arena_t *arena)
{
    portail_host_serve(&host, req, arena);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    accept_loop(w->listen_fd, 64 * 1024, &w->idle, serve_request);
    pthread_mutex_lock(&done_mu);
    w->done = 1;
    pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&done_mu);
    return NULL;
}

static int open_listener(const portail_conf_t *c, const char *l)
{
    const char *colon = strrchr(l, ':');
    if (l[0] != '/' && l[0] != '.' && colon && !strchr(l, '/')) {
        char hostpart[256];
        size_t hn = (size_t)(colon - l);
        if (hn >= sizeof(hostpart))
            return -1;
        memcpy(hostpart, l, hn);
        hostpart[hn] = '\0';
        struct addrinfo hints = {
            .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
        struct addrinfo *ai = NULL;
        if (getaddrinfo(hn ? hostpart : NULL, colon + 1, &hints, &ai) != 0 || !ai) {
            fprintf(stderr, "portaild: cannot resolve listen address %s\n", l);
            return -1;
        }
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0)
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, c->backlog) < 0) {
            fprintf(stderr, "portaild: cannot listen on %s: %s\n", l, strerror(errno));
            freeaddrinfo(ai);
            if (fd >= 0)
                close(fd);
            return -1;
        }
        freeaddrinfo(ai);
        return fd;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(l) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "portaild: socket path too long: %s\n", l);
        return -1;
    }
    strcpy(sa.sun_path, l);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* A stale socket from a crashed run would make bind fail; a live one
     * means another portaild: refuse rather than steal it. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        fprintf(stderr, "portaild: another process is listening on %s\n", l);
        close(fd);
        return -1;
    }
    close(fd);
    unlink(l);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    mode_t old = umask(0777 & ~(mode_t)c->socket_mode);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || chmod(l, (mode_t)c->socket_mode) < 0 || listen(fd, c->backlog) < 0) {
        fprintf(stderr, "portaild: cannot listen on %s: %s\n", l, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* GET /metrics on its own FastCGI socket and thread: the same protocol
 * as the main socket (libfcgi parses it, nginx or any FastCGI client
 * scrapes it), never routed by the public site, and answered even when
 * every worker is busy, which is when the numbers matter most. */
static struct {
    pthread_t thread;
    int fd;
    volatile sig_atomic_t idle, done;
} metrics = {.fd = -1};

static void metrics_answer(FCGX_Request *req, portail_arena_t *arena)
{
    const char *method = FCGX_GetParam("REQUEST_METHOD", req->envp);
    const char *uri = FCGX_GetParam("DOCUMENT_URI", req->envp);
    if (!uri)
        uri = FCGX_GetParam("REQUEST_URI", req->envp);
    size_t ulen = uri ? strcspn(uri, "?") : 0;
    int head = method && strcmp(method, "HEAD") == 0;
    if (!uri || ulen != 8 || strncmp(uri, "/metrics", 8) != 0) {
        FCGX_PutS("Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Length: 10\r\n\r\nNot Found\n",
                  req->out);
        return;
    }
    if (!method || (strcmp(method, "GET") != 0 && !head)) {
        FCGX_PutS("Status: 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n\r\n",
                  req->out);
        return;
    }
    char *body = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&body, &len);
    int rc = out ? portail_metrics_write(out, &host, arena) : -1;
    if (out && fclose(out) != 0)
        rc = -1;
    if (rc < 0) {
        FCGX_PutS("Status: 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", req->out);
    } else {
        /* libfcgi's own printf knows no %zu: format here. */
        char hdr[160];
        int n = snprintf(hdr, sizeof(hdr),
                         "Status: 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
                         "charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: %zu\r\n\r\n",
                         len);
        FCGX_PutStr(hdr, n, req->out);
        if (!head)
            FCGX_PutStr(body, (int)len, req->out);
    }
    free(body);
}

static void metrics_serve(FCGX_Request *req, portail_arena_t *arena)
{
    metrics_answer(req, arena);
    FCGX_Finish_r(req);
    portail_arena_reset(arena);
}

static void *metrics_main(void *arg)
{
    (void)arg;
    accept_loop(metrics.fd, 16 * 1024, &metrics.idle, metrics_serve);
    metrics.done = 1;
    return NULL;
}

/* After the workers: a scrape in flight ends within its pool wait. */
static void metrics_stop(void)
{
    if (metrics.fd < 0)
        return;
    shutdown(metrics.fd, SHUT_RDWR);
    for (int i = 0; i < 200 && !metrics.done; i++) {
        if (metrics.idle)
            pthread_kill(metrics.thread, SIGUSR1);
        struct timespec ts = {0, 25 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (metrics.done)
        pthread_join(metrics.thread, NULL);
    close(metrics.fd);
    if (strchr(host.conf->metrics_socket, '/'))
        unlink(host.conf->metrics_socket);
    metrics.fd = -1;
}

#define MALLOC_TUNABLES "glibc.malloc.tcache_count=64"

static int usage(void)
{
    fprintf(stderr, "usage: portaild --config FILE\n       portaild --check-config FILE\n"
                    "       portaild --nginx-values FILE\n");
    return 2;
}

/* Loads config and modules; 0 or -1 with the reason printed as one line. */
static int setup(const char *file)
{
    static portail_conf_t conf;
    char err[1024];
    if (portail_conf_load(&conf, file, err, sizeof(err)) < 0) {
        fprintf(stderr, "portaild: %s\n", err);
        return -1;
    }
    host.conf = &conf;
    if (portail_host_load(&host, err, sizeof(err)) < 0) {
        fprintf(stderr, "portaild: %s\n", err);
        return -1;
    }
    return 0;
}

/* A database behind the SQL files of the core or of an enabled module would
 * make handlers fail on missing tables or columns at random later: refuse
 * to serve it now, with the file to apply. */
static int check_migrations(void)
{
    char err[1024];
    portail_arena_t *arena = portail_arena_new(0);
    int why = 0;
    portail_db_t *db = arena ? portail_pool_acquire(host.pool, arena, "startup", 5000, &why) : NULL;
    int rc = -1;
    if (!db)
        fprintf(stderr, "portaild: cannot check the migrations: database unreachable\n");
    else if ((rc = portail_migrate_check(db, host.conf, err, sizeof(err))) < 0)
        fprintf(stderr, "portaild: database %s is behind: %s\n", host.conf->db.database, err);
    if (db)
        portail_pool_release(db);
    portail_arena_free(arena);
    return rc;
}

static void teardown(void)
{
    portail_host_unload(&host);
    if (host.pool)
        portail_pool_free(host.pool);
    if (host.conf)
        portail_conf_free(host.conf);
}

/* The nginx template's placeholders that follow portail.conf, as KEY=VALUE
 * lines for the renderers (script/lib.sh, nginx/site-render, the tests):
 * only the configuration is read, no module, no database. The burst lets a
 * sign-in wait at most 20 s in nginx before a 429. */
static int nginx_values(const char *file)
{
    static portail_conf_t conf;
    char err[1024];
    if (portail_conf_load(&conf, file, err, sizeof(err)) < 0) {
        fprintf(stderr, "portaild: %s\n", err);
        return 1;
    }
    printf("SIGNIN_RATE=%d\nSIGNIN_BURST=%d\n", conf.signin_rate, 20 * conf.signin_rate);
    portail_conf_free(&conf);
    return 0;
}

/* glibc keeps at most 7 freed blocks of each size per thread (its tcache);
 * a request frees and allocates some 60 small blocks (jansson's rows, the
 * client library's buffers), so most went through the shared bins and a
 * consolidation of them each request: GET /me ran 15 % more instructions
 * (callgrind, docs/performance.md). The count is only read from the
 * environment at start, hence one exec of ourselves with it set. An
 * operator's (or valgrind user's) own GLIBC_TUNABLES is left as it is. */
static void tune_malloc(char **argv)
{
    if (getenv("GLIBC_TUNABLES") || setenv("GLIBC_TUNABLES", MALLOC_TUNABLES, 1) != 0)
        return;
    execv("/proc/self/exe", argv);
    unsetenv("GLIBC_TUNABLES"); /* not re-executed: served untuned, as before */
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return usage();
    if (strcmp(argv[1], "--nginx-values") == 0)
        return nginx_values(argv[2]);
    int check_only = strcmp(argv[1], "--check-config") == 0;
    if (!check_only && strcmp(argv[1], "--config") != 0)
        return usage();
    if (!check_only)
        tune_malloc(argv);
    portail_arena_json_setup();

    /* Request bodies and documents (up to 20 MiB) are freed at the end of
     * their request: a fixed mmap threshold gives them back to the system
     * at once, where glibc's sliding threshold would keep each thread's
     * largest one resident (bench/documents). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);

    /* Process-wide library set-up before any thread exists. */
    if (sodium_init() < 0 || mysql_library_init(0, NULL, NULL) != 0 || FCGX_Init() != 0 ||
        curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "portaild: library initialisation failed\n");
        return 1;
    }
    if (setup(argv[2]) < 0) {
        teardown();
        return 1;
    }
    if (check_only) {
        printf("ok\n");
        teardown();
        return 0;
    }
    char why[1300];
    if (portail_brand_render(host.conf, host.modules, host.nmodules, why, sizeof why) < 0) {
        fprintf(stderr, "portaild: %s\n", why);
        teardown();
        return 1;
    }
    if (portail_log_open(host.conf->log_path) < 0) {
        fprintf(stderr, "portaild: cannot open log %s: %s\n", host.conf->log_path, strerror(errno));
        teardown();
        return 1;
    }
    host.pool = portail_pool_new(&host.conf->db);
    if (!host.pool) {
        fprintf(stderr, "portaild: cannot create the database pool\n");
        teardown();
        return 1;
    }
    if (check_migrations() < 0) {
        teardown();
        return 1;
    }
    portail_the_host = &host;
    portail_metrics_start();
    int fd = open_listener(host.conf, host.conf->listen);
    if (fd < 0) {
        teardown();
        return 1;
    }

    /* Workers inherit a mask with the control signals blocked; SIGUSR1 stays
     * deliverable, without SA_RESTART, to knock idle workers out of accept. */
    struct sigaction sa = {.sa_handler = on_wake};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t ctl;
    sigemptyset(&ctl);
    sigaddset(&ctl, SIGTERM);
    sigaddset(&ctl, SIGINT);
    sigaddset(&ctl, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &ctl, NULL);

    if (portail_outbox_start(&host) < 0) {
        fprintf(stderr, "portaild: cannot start the mail sender\n");
        close(fd);
        teardown();
        return 1;
    }
    if (portail_jobs_start(&host) < 0) {
        fprintf(stderr, "portaild: cannot start the job workers\n");
        exit(1);
    }
    int nthreads = host.conf->threads;
    struct worker *workers = calloc((size_t)nthreads, sizeof(*workers));
    if (!workers)
        abort();
    for (int i = 0; i < nthreads; i++) {
        workers[i].listen_fd = fd;
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0) {
            fprintf(stderr, "portaild: cannot start worker threads\n");
            exit(1);
        }
    }
    if (host.conf->metrics_socket[0]) {
        metrics.fd = open_listener(host.conf, host.conf->metrics_socket);
        if (metrics.fd < 0 || pthread_create(&metrics.thread, NULL, metrics_main, NULL) != 0) {
            fprintf(stderr, "portaild: cannot serve the metrics on %s\n",
                    host.conf->metrics_socket);
            exit(1);
        }
    }
    portail_logf("info", NULL, "portaild %s listening on %s with %d threads, %zu modules",
                 PORTAIL_VERSION, host.conf->listen, nthreads, host.nmodules);

    portail_log_buffering(host.conf->log_buffer);
    for (;;) {
        /* Wakes every second to write the access lines threads buffered. */
        struct timespec tick = {1, 0};
        int sig = sigtimedwait(&ctl, NULL, &tick);
        if (sig < 0) {
            portail_log_flush();
            continue;
        }
        if (sig == SIGHUP) {
            portail_log_reopen();
            portail_logf("info", NULL, "log reopened");
            continue;
        }
        break;
    }
    portail_logf("info", NULL, "stopping: draining in-flight requests (grace %d s)",
                 host.conf->grace_seconds);
    host.stopping = 1;
    portail_jobs_signal_stop(); /* no new claims; running jobs go on */
    /* No FCGX_ShutdownPending(): with its flag set, libfcgi's accept loop
     * (2.4.2, os_unix.c) spins on a descriptor it has just closed when the
     * wake-up signal cuts its wait for a new connection's first bytes, until
     * the grace period ends (test_sigterm_with_a_silent_connection_...).
     * The shut-down listener and FCGI_FAIL_ACCEPT_ON_INTR end the accepts. */
    shutdown(fd, SHUT_RDWR);
    if (host.conf->listen[0] == '/' || strchr(host.conf->listen, '/'))
        unlink(host.conf->listen);

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += host.conf->grace_seconds;
    int all_done = 0;
    while (!all_done) {
        all_done = 1;
        for (int i = 0; i < nthreads; i++) {
            if (workers[i].done)
                continue;
            all_done = 0;
            if (workers[i].idle)
                pthread_kill(workers[i].thread, SIGUSR1);
        }
        if (all_done)
            break;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        if (now.tv_sec > deadline.tv_sec ||
            (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
            portail_logf("warn", NULL, "grace period over: exiting with requests in flight");
            portail_jobs_stop(0);
            portail_outbox_stop();
            close(fd);
            portail_log_flush(); /* workers still run: flush, do not free */
            _exit(0);
        }
        struct timespec step = now;
        step.tv_nsec += 50 * 1000 * 1000;
        if (step.tv_nsec >= 1000000000L) {
            step.tv_sec++;
            step.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&done_mu);
        pthread_cond_timedwait(&done_cv, &done_mu, &step);
        pthread_mutex_unlock(&done_mu);
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(workers[i].thread, NULL);
    free(workers);
    metrics_stop();
    /* A job still running after the grace period is left to its lease:
     * the modules it runs in must stay loaded, so no teardown then. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int left_s = (int)(deadline.tv_sec - now.tv_sec);
    if (portail_jobs_stop(left_s > 0 ? left_s : 0) < 0) {
        portail_outbox_stop();
        close(fd);
        portail_log_flush();
        _exit(0);
    }
    portail_outbox_stop();
    close(fd);
    portail_logf("info", NULL, "stopped");
    teardown();
    portail_log_close();
    curl_global_cleanup();
    mysql_library_end();
    return 0;
}
