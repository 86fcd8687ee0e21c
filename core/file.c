/* Whole files read into memory with a bound: the configuration, the
 * migrations, the mail templates, the PDF logo. Read as a stream until the
 * bound, so that a pipe or /proc file works and a file growing meanwhile
 * cannot overrun the buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

char *portail_file_read(const char *path, size_t max, size_t *len, int *too_big)
{
    *too_big = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    /* Grown as read, up to max + 1 bytes: one more tells "too big". */
    size_t cap = max < 16384 ? max + 1 : 16384, n = 0;
    char *buf = malloc(cap + 1);
    int failed = !buf;
    while (!failed) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap > max)
            break;
        size_t bigger_cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
        char *bigger = realloc(buf, bigger_cap + 1);
        failed = !bigger;
        if (bigger) {
            buf = bigger;
            cap = bigger_cap;
        }
    }
    failed = failed || ferror(f);
    int saved = errno;
    fclose(f);
    if (!failed && n > max) {
        *too_big = 1;
        failed = 1;
    }
    if (failed) {
        free(buf);
        errno = saved;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

void portail_html_write(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(s[i], f);
        }
    }
}
