/* The baseline of bench/run: the least a threaded libfcgi program can do
 * per request (accept, write a small JSON body, finish). portaild's trivial
 * route is measured against it in the same run. */
#include "fcgi_serve.h"
#include <stdio.h>

static void *worker(void *arg)
{
    (void)arg;
    FCGX_Request req;
    FCGX_InitRequest(&req, fcgi_listen_fd, 0);
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
    int n = argc == 3 ? fcgi_threads(argv[2]) : 0;
    if (!n) {
        fprintf(stderr, "usage: fcgi_hello SOCKET THREADS (1..256)\n");
        return 2;
    }
    return fcgi_serve(argv[1], n, worker);
}
