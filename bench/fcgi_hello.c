/* The baseline of bench/run: the least a threaded libfcgi program can do
 * per request (accept, write a small JSON body, finish). portaild's trivial
 * route is measured against it in the same run. */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int listen_fd;

static void *worker(void *arg)
{
    (void)arg;
    FCGX_Request req;
    FCGX_InitRequest(&req, listen_fd, 0);
    static const char resp[] = "Status: 200 OK\r\nContent-Type: application/json\r\n"
                               "Cache-Control: no-store\r\nContent-Length: 17\r\n\r\n"
                               "{\"hello\":\"world\"}";
    while (FCGX_Accept_r(&req) >= 0) {
        FCGX_PutStr(resp, (int)sizeof(resp) - 1, req.out);
        FCGX_Finish_r(&req);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fcgi_hello SOCKET THREADS\n");
        return 2;
    }
    int n = atoi(argv[2]);
    if (n < 1 || n > 256)
        return 2;
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
