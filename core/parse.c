/* Request parsing: query strings, urlencoded forms, cookies, multipart bodies
 * and header parameters. Pure functions over the request arena; every loop is
 * bounded by the length it was given, and multipart bodies are binary-safe. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "portail/texts.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

char *portail_url_decode(portail_arena_t *a, const char *s, size_t len, int form)
{
    char *out = portail_alloc(a, len + 1);
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (len - i < 3)
                return NULL;
            int hi = hexval((unsigned char)s[i + 1]);
            int lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        }
        /* A NUL would silently truncate every C string built from the value
         * afterwards, so a value carrying one is refused outright. */
        if (c == '\0')
            return NULL;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    /* Handlers build JSON (and SQL on utf8mb4 columns) from these values:
     * a stray byte would turn a client's mistake into a server error. */
    for (size_t i = 0; i < o;) {
        size_t n = portail_utf8_seq((const unsigned char *)out + i, o - i);
        if (n == 0)
            return NULL;
        i += n;
    }
    return out;
}

int portail_parse_urlencoded(portail_arena_t *a, const char *s, size_t len, size_t max,
                             portail_kv_t **out)
{
    size_t n = 0;

    *out = NULL;
    if (s == NULL || len == 0)
        return 0;
    /* Count first so the limit is enforced before anything is decoded. */
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - s) : len;
        if (end > i)
            n++;
        i = end + 1;
    }
    if (n > max || n > INT32_MAX)
        return -1;
    if (n == 0)
        return 0;

    portail_kv_t *kv = portail_alloc(a, n * sizeof(*kv));
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - s) : len;
        if (end > i) {
            const char *eq = memchr(s + i, '=', end - i);
            size_t klen = eq ? (size_t)(eq - (s + i)) : end - i;
            /* A value without a name cannot be looked up: the request was
             * not built by a form, so it is refused rather than guessed.
             * cppcheck 2.10 loses that memchr may return s + i ("=v"). */
            // cppcheck-suppress knownConditionTrueFalse
            if (klen == 0)
                return -1;
            const char *key = portail_url_decode(a, s + i, klen, 1);
            const char *val = eq ? portail_url_decode(a, eq + 1, (size_t)(s + end - eq - 1), 1)
                                 : portail_strdup(a, "");
            if (key == NULL || val == NULL)
                return -1;
            kv[k].key = key;
            kv[k].value = val;
            k++;
        }
        i = end + 1;
    }
    *out = kv;
    return (int)n;
}

int portail_parse_cookies(portail_arena_t *a, const char *header, size_t max, portail_kv_t **out)
{
    *out = NULL;
    if (header == NULL)
        return 0;

    size_t cap = 0;
    for (const char *p = header; *p; p++)
        if (*p == ';')
            cap++;
    cap++;
    /* The array is sized from the separators, then filled only with
     * well-formed pairs; the limit applies to those. */
    portail_kv_t *kv = portail_alloc(a, cap * sizeof(*kv));
    size_t n = 0;

    const char *p = header;
    for (;;) {
        const char *semi = strchr(p, ';');
        const char *end = semi ? semi : p + strlen(p);
        const char *b = p, *e = end;
        while (b < e && is_ows(*b))
            b++;
        while (e > b && is_ows(e[-1]))
            e--;
        const char *eq = memchr(b, '=', (size_t)(e - b));
        if (eq != NULL) {
            const char *ke = eq;
            while (ke > b && is_ows(ke[-1]))
                ke--;
            const char *vb = eq + 1;
            while (vb < e && is_ows(*vb))
                vb++;
            const char *ve = e;
            if (ve - vb >= 2 && *vb == '"' && ve[-1] == '"') {
                vb++;
                ve--;
            }
            if (ke > b) {
                if (n == max)
                    return -1;
                kv[n].key = portail_strndup(a, b, (size_t)(ke - b));
                kv[n].value = portail_strndup(a, vb, (size_t)(ve - vb));
                n++;
            }
        }
        if (semi == NULL)
            break;
        p = semi + 1;
    }
    if (n > INT32_MAX)
        return -1;
    if (n > 0)
        *out = kv;
    return (int)n;
}

int portail_media_type_is(const char *content_type, const char *type)
{
    if (content_type == NULL || type == NULL)
        return 0;
    const char *b = content_type;
    while (is_ows(*b))
        b++;
    const char *e = strchr(b, ';');
    if (e == NULL)
        e = b + strlen(b);
    while (e > b && is_ows(e[-1]))
        e--;
    size_t n = strlen(type);
    return (size_t)(e - b) == n && strncasecmp(b, type, n) == 0;
}

/* RFC 9110 token characters: what may appear in a parameter name or an
 * unquoted value. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

char *portail_header_param(portail_arena_t *a, const char *header_value, const char *name)
{
    if (header_value == NULL || name == NULL)
        return NULL;
    size_t nlen = strlen(name);
    /* The first element is the value itself (a media type, "form-data"),
     * never a parameter. */
    const char *p = strchr(header_value, ';');

    while (p != NULL && *p) {
        while (*p == ';' || is_ows(*p))
            p++;
        const char *nb = p;
        while (is_tchar((unsigned char)*p))
            p++;
        const char *ne = p;
        while (is_ows(*p))
            p++;
        if (ne == nb || *p != '=') {
            /* Not name=value: skip to the next parameter. */
            p = strchr(p, ';');
            continue;
        }
        p++;
        while (is_ows(*p))
            p++;
        int match = (size_t)(ne - nb) == nlen && strncasecmp(nb, name, nlen) == 0;
        if (*p == '"') {
            p++;
            /* The unescaped value is never longer than the quoted one. */
            size_t cap = strlen(p) + 1;
            char *val = match ? portail_alloc(a, cap) : NULL;
            size_t o = 0;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1] != '\0')
                    p++;
                if (val)
                    val[o++] = *p;
                p++;
            }
            if (*p != '"')
                return NULL; /* unterminated quoted-string */
            p++;
            if (match) {
                val[o] = '\0';
                return val;
            }
        } else {
            const char *vb = p;
            while (*p && *p != ';' && !is_ows(*p))
                p++;
            if (match)
                return portail_strndup(a, vb, (size_t)(p - vb));
        }
        p = strchr(p, ';');
    }
    return NULL;
}

const char *portail_kv_get(const portail_kv_t *kv, size_t n, const char *key, int nocase)
{
    if (kv == NULL || key == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (nocase ? strcasecmp(kv[i].key, key) == 0 : strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    }
    return NULL;
}

/* ---- multipart/form-data (RFC 7578 over RFC 2046) ------------------------ */

#define MP_MALFORMED TXT_PARSE_MULTIPART_MAL_FORME
#define MP_TOO_LARGE TXT_PARSE_MULTIPART_TROP_VOLUMINEUX

/* RFC 2046 bchars: anything else in a boundary means the client and the
 * parser could disagree on where a part ends. */
static int boundary_ok(const char *b)
{
    size_t n = strlen(b);
    if (n < 1 || n > 70 || b[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              strchr("'()+_,-./:=? ", c) != NULL))
            return 0;
    }
    return 1;
}

/* After a delimiter: optional transport padding then CRLF. Returns the
 * offset of the next line, or 0 when the CRLF is missing. */
static size_t after_delimiter(const unsigned char *body, size_t len, size_t pos)
{
    while (pos < len && is_ows((char)body[pos]))
        pos++;
    if (pos + 2 > len || body[pos] != '\r' || body[pos + 1] != '\n')
        return 0;
    return pos + 2;
}

/* Strips what a browser may prefix to a file name (old browsers sent the
 * full client path), so that a handler never sees a directory. */
static const char *base_name(const char *f)
{
    const char *s = f;
    for (const char *p = f; *p; p++)
        if (*p == '/' || *p == '\\')
            s = p + 1;
    return s;
}

/* Parses the header block [h, h+n) of one part. 0 or -1 with *err. */
static int part_headers(portail_arena_t *a, const char *h, size_t n, portail_part_t *part,
                        const char **err)
{
    const char *disposition = NULL;
    const char *ctype = NULL;

    if (memchr(h, '\0', n) != NULL) {
        *err = MP_MALFORMED TXT_PARSE_EN_TETE_PARTIE_INVALIDE;
        return -1;
    }
    /* Names and file names reach handlers (and their JSON) as C strings:
     * they must be UTF-8, as RFC 7578 and browsers have them. */
    for (size_t i = 0; i < n;) {
        size_t len = portail_utf8_seq((const unsigned char *)h + i, n - i);
        if (len == 0) {
            *err = MP_MALFORMED TXT_PARSE_EN_TETE_PARTIE_UTF_8;
            return -1;
        }
        i += len;
    }
    for (size_t i = 0; i < n;) {
        const char *crlf = memmem(h + i, n - i, "\r\n", 2);
        size_t end = crlf ? (size_t)(crlf - h) : n;
        const char *line = h + i;
        size_t llen = end - i;
        const char *colon = memchr(line, ':', llen);
        /* Folded lines (leading whitespace) are obsolete and refused. */
        if (colon == NULL || colon == line || is_ows(*line)) {
            *err = MP_MALFORMED TXT_PARSE_EN_TETE_PARTIE_INVALIDE;
            return -1;
        }
        size_t nl = (size_t)(colon - line);
        const char *vb = colon + 1, *ve = line + llen;
        while (vb < ve && is_ows(*vb))
            vb++;
        while (ve > vb && is_ows(ve[-1]))
            ve--;
        const char **slot = NULL;
        if (nl == 19 && strncasecmp(line, "Content-Disposition", 19) == 0)
            slot = &disposition;
        else if (nl == 12 && strncasecmp(line, "Content-Type", 12) == 0)
            slot = &ctype;
        if (slot != NULL) {
            if (*slot != NULL) {
                *err = MP_MALFORMED TXT_PARSE_EN_TETE_PARTIE_REPETE;
                return -1;
            }
            *slot = portail_strndup(a, vb, (size_t)(ve - vb));
        }
        i = end + 2;
    }

    if (disposition == NULL || !portail_media_type_is(disposition, "form-data")) {
        *err = MP_MALFORMED TXT_PARSE_EN_TETE_CONTENT_DISPOSITION_ABSENT;
        return -1;
    }
    part->name = portail_header_param(a, disposition, "name");
    if (part->name == NULL) {
        *err = MP_MALFORMED TXT_PARSE_NOM_DE_CHAMP_ABSENT;
        return -1;
    }
    const char *fn = portail_header_param(a, disposition, "filename");
    part->filename = fn ? base_name(fn) : NULL;
    part->content_type = (ctype && *ctype) ? ctype : "text/plain";
    return 0;
}

int portail_parse_multipart(portail_arena_t *a, const char *content_type, const unsigned char *body,
                            size_t len, const portail_multipart_limits_t *lim, portail_part_t **out,
                            size_t *count, const char **err)
{
    static const portail_multipart_limits_t defaults = {16, (size_t)10 << 20, 4096};
    const char *dummy;

    if (err == NULL)
        err = &dummy;
    *err = NULL;
    *out = NULL;
    *count = 0;
    if (lim == NULL)
        lim = &defaults;
    if (body == NULL)
        len = 0;

    if (!portail_media_type_is(content_type, "multipart/form-data")) {
        *err = TXT_PARSE_MULTIPART_ATTENDU;
        return -1;
    }
    const char *boundary = portail_header_param(a, content_type, "boundary");
    if (boundary == NULL) {
        *err = MP_MALFORMED TXT_PARSE_PARAMETRE_BOUNDARY_ABSENT;
        return -1;
    }
    if (!boundary_ok(boundary)) {
        *err = MP_MALFORMED TXT_PARSE_DELIMITEUR_INVALIDE_1_70;
        return -1;
    }

    /* "\r\n--boundary": the CRLF before a delimiter belongs to it, not to
     * the preceding part's data. */
    size_t blen = strlen(boundary);
    size_t dlen = blen + 4;
    char *delim = portail_alloc(a, dlen + 1);
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen + 1);

    size_t pos;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        pos = dlen - 2;
    } else {
        const unsigned char *d = len ? memmem(body, len, delim, dlen) : NULL;
        if (d == NULL) {
            *err = MP_MALFORMED TXT_PARSE_DELIMITEUR_INITIAL_ABSENT;
            return -1;
        }
        pos = (size_t)(d - body) + dlen;
    }

    portail_part_t *parts = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        /* pos is just past a delimiter. */
        if (len - pos >= 2 && body[pos] == '-' && body[pos + 1] == '-')
            break; /* close delimiter; the epilogue is ignored */
        size_t next = after_delimiter(body, len, pos);
        if (next == 0) {
            *err = len - pos < 2 ? MP_MALFORMED TXT_PARSE_DELIMITEUR_FINAL_ABSENT
                                 : MP_MALFORMED TXT_PARSE_RETOUR_LIGNE_ABSENT_APRES;
            return -1;
        }
        pos = next;
        if (n == lim->max_parts) {
            *err = MP_TOO_LARGE TXT_PARSE_TROP_DE_PARTIES;
            return -2;
        }

        /* Header block: up to the empty line, searched only within the
         * limit so that a huge headerless body costs nothing. */
        size_t rem = len - pos, hlen, data;
        if (rem >= 2 && body[pos] == '\r' && body[pos + 1] == '\n') {
            hlen = 0;
            data = pos + 2;
        } else {
            size_t window = rem;
            if (lim->max_part_header_bytes < SIZE_MAX - 4 &&
                window > lim->max_part_header_bytes + 4)
                window = lim->max_part_header_bytes + 4;
            const unsigned char *e = memmem(body + pos, window, "\r\n\r\n", 4);
            if (e == NULL) {
                if (window < rem) {
                    *err = MP_TOO_LARGE TXT_PARSE_EN_TETES_PARTIE_TROP_LONGS;
                    return -2;
                }
                *err = MP_MALFORMED TXT_PARSE_EN_TETES_PARTIE_INCOMPLETS;
                return -1;
            }
            hlen = (size_t)(e - (body + pos));
            data = pos + hlen + 4;
        }
        if (hlen > lim->max_part_header_bytes) {
            *err = MP_TOO_LARGE TXT_PARSE_EN_TETES_PARTIE_TROP_LONGS;
            return -2;
        }

        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            if (ncap > lim->max_parts)
                ncap = lim->max_parts;
            portail_part_t *np = portail_alloc(a, ncap * sizeof(*np));
            if (n)
                memcpy(np, parts, n * sizeof(*np));
            parts = np;
            cap = ncap;
        }
        portail_part_t *part = &parts[n];
        memset(part, 0, sizeof(*part));
        if (part_headers(a, (const char *)body + pos, hlen, part, err) != 0)
            return -1;

        const unsigned char *d = memmem(body + data, len - data, delim, dlen);
        if (d == NULL) {
            *err = MP_MALFORMED TXT_PARSE_DELIMITEUR_FINAL_ABSENT;
            return -1;
        }
        size_t plen = (size_t)(d - (body + data));
        if (plen > lim->max_part_bytes) {
            *err = MP_TOO_LARGE TXT_PARSE_PARTIE_TROP_VOLUMINEUSE;
            return -2;
        }
        part->data = body + data;
        part->len = plen;
        n++;
        pos = (size_t)(d - body) + dlen;
    }

    *out = parts;
    *count = n;
    return 0;
}
