/* The start of bench/run's bare libfcgi programs (fcgi_hello.c,
 * member_floor.c): the socket opened for nginx, THREADS workers started
 * on it, joined. Only the set-up is shared: each program keeps its own
 * accept loop in its worker, so that the hello baseline pays no call
 * through a pointer per request. */
#ifndef BENCH_FCGI_SERVE_H
#define BENCH_FCGI_SERVE_H

#include <fcgiapp.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>

#define FCGI_SERVE_THREADS_MAX 256

/* The socket the workers accept on (FCGX_InitRequest). */
static int fcgi_listen_fd;

/* THREADS as a number of workers, 0 when out of 1..256. */
static int fcgi_threads(const char *threads)
{
    int n = atoi(threads);
    return n >= 1 && n <= FCGI_SERVE_THREADS_MAX ? n : 0;
}

/* Opens SOCKET (mode 0666: nginx runs as another user), runs n workers
 * until they return; 1 when the socket cannot be opened. */
static int fcgi_serve(const char *socket, int n, void *(*worker)(void *))
{
    FCGX_Init();
    fcgi_listen_fd = FCGX_OpenSocket(socket, 256);
    if (fcgi_listen_fd < 0)
        return 1;
    chmod(socket, 0666);
    pthread_t t[FCGI_SERVE_THREADS_MAX];
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}

#endif
