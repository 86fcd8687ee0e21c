/* Client networks (CIDR lists from the config) and the check of a request
 * path before routing. Both are defence in depth behind nginx: nginx checks
 * the normalised path and its own allow list, portaild routes the raw path,
 * so the two must not be able to read one request differently. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int parse_one(const char *tok, portail_net_t *n)
{
    char buf[64];
    size_t len = strlen(tok);
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, tok, len + 1);
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        *slash = '\0';
        char *end = NULL;
        if (!isdigit((unsigned char)slash[1]))
            return -1;
        prefix = strtol(slash + 1, &end, 10);
        if (*end || prefix < 0)
            return -1;
    }
    memset(n, 0, sizeof *n);
    if (inet_pton(AF_INET, buf, n->addr) == 1) {
        n->family = 4;
        n->prefix = prefix < 0 ? 32 : (int)prefix;
        return n->prefix <= 32 ? 0 : -1;
    }
    if (inet_pton(AF_INET6, buf, n->addr) == 1) {
        n->family = 6;
        n->prefix = prefix < 0 ? 128 : (int)prefix;
        return n->prefix <= 128 ? 0 : -1;
    }
    return -1;
}

int portail_nets_parse(const char *spec, portail_net_t *out, size_t max, char *bad, size_t badlen)
{
    size_t count = 0;
    const char *p = spec ? spec : "";
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ' ' && *p != ',' && *p != '\t')
            p++;
        char tok[64];
        size_t len = (size_t)(p - start);
        snprintf(tok, sizeof tok, "%.*s", (int)(len < sizeof tok ? len : sizeof tok - 1), start);
        if (len >= sizeof tok || count >= max || parse_one(tok, &out[count]) != 0) {
            if (bad)
                snprintf(bad, badlen, "%s", count >= max ? "too many networks" : tok);
            return -1;
        }
        count++;
    }
    return (int)count;
}

static int prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)bytes) != 0)
        return 0;
    if (!rest)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

int portail_nets_match(const portail_net_t *nets, size_t n, const char *ip)
{
    if (n == 0)
        return 1;
    unsigned char a4[4], a6[16];
    int is4 = ip && inet_pton(AF_INET, ip, a4) == 1;
    int is6 = !is4 && ip && inet_pton(AF_INET6, ip, a6) == 1;
    /* An IPv4 client on a dual-stack socket reads ::ffff:a.b.c.d. */
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (is6 && memcmp(a6, mapped, sizeof mapped) == 0) {
        memcpy(a4, a6 + 12, 4);
        is4 = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (nets[i].family == 4 && is4 && prefix_match(a4, nets[i].addr, nets[i].prefix))
            return 1;
        if (nets[i].family == 6 && is6 && prefix_match(a6, nets[i].addr, nets[i].prefix))
            return 1;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int portail_path_clean(const char *path)
{
    if (!path || path[0] != '/')
        return 0;
    const char *seg = path + 1;
    for (;;) {
        const char *end = seg;
        size_t dots = 0, other = 0;
        while (*end && *end != '/') {
            if (*end == '%') {
                int hi = hexval(end[1]), lo = hi < 0 ? -1 : hexval(end[2]);
                if (lo < 0)
                    return 0; /* a broken escape is no path of ours */
                int c = hi * 16 + lo;
                if (c == '/' || c == '\\' || c == 0)
                    return 0;
                if (c == '.')
                    dots++;
                else
                    other++;
                end += 3;
                continue;
            }
            if (*end == '.')
                dots++;
            else
                other++;
            end++;
        }
        if (other == 0 && (dots == 1 || dots == 2))
            return 0; /* "." or "..", raw or encoded */
        if (!*end)
            return 1;
        seg = end + 1;
    }
}
