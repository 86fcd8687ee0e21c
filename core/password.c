/* Password policy and hashing shared by every module that sets or checks a
 * password (sign-in, registration, reset, change). */
#include <stddef.h>

#include <crack.h>
#include <ctype.h>
#include <packer.h>
#include <pthread.h>
#include <sodium.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "hashmem.h"
#include "internal.h"
#include "portail/texts.h"

#define PASSWORD_MIN_CHARS 12
#define PASSWORD_MAX_CHARS 128
#define CONTEXT_MIN_CHARS 3
/* Shortest stem (after the digits and symbols at either end are gone) looked
 * up in the list of common passwords: shorter ones say nothing. */
#define COMMON_MIN_CHARS 4
/* A run of this many +1/-1 steps in a row ("abcdef", "987654") is a walk. */
#define WALK_STEPS 5

/* cracklib keeps static state: one check at a time. */
static pthread_mutex_t crack_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];

static size_t utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    return chars;
}

/* Lower-case ASCII letters and digits only, accents folded for the French
 * letters, so that "Dupont", "DUPONT" and "dùpont" compare equal. */
static char *fold(portail_arena_t *a, const char *s)
{
    static const struct {
        const char *from;
        char to;
    } map[] = {{"à", 'a'}, {"â", 'a'}, {"ä", 'a'}, {"á", 'a'}, {"ç", 'c'}, {"é", 'e'}, {"è", 'e'},
               {"ê", 'e'}, {"ë", 'e'}, {"î", 'i'}, {"ï", 'i'}, {"í", 'i'}, {"ô", 'o'}, {"ö", 'o'},
               {"ó", 'o'}, {"ù", 'u'}, {"û", 'u'}, {"ü", 'u'}, {"ú", 'u'}, {"ÿ", 'y'}, {"ñ", 'n'},
               {"À", 'a'}, {"Â", 'a'}, {"Ç", 'c'}, {"É", 'e'}, {"È", 'e'}, {"Ê", 'e'}, {"Ë", 'e'},
               {"Î", 'i'}, {"Ï", 'i'}, {"Ô", 'o'}, {"Ù", 'u'}, {"Û", 'u'}, {"Ü", 'u'}, {"œ", 'o'},
               {"Œ", 'o'}, {"æ", 'a'}, {"Æ", 'a'}};
    size_t n = strlen(s);
    char *out = portail_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (isalnum(c))
                out[o++] = (char)tolower(c);
            i++;
            continue;
        }
        size_t step = 1;
        for (size_t k = 0; k < sizeof(map) / sizeof(map[0]); k++) {
            size_t len = strlen(map[k].from);
            if (strncmp(s + i, map[k].from, len) == 0) {
                out[o++] = map[k].to;
                step = len;
                break;
            }
        }
        if (step == 1)
            while (i + step < n && ((unsigned char)s[i + step] & 0xC0) == 0x80)
                step++;
        i += step;
    }
    out[o] = '\0';
    return out;
}

/* "1985-03-14" also as 14031985, 140385 and 19850314. */
static int contains_date(const char *folded_pw, const char *date)
{
    int y, m, d;
    if (strlen(date) != 10 || sscanf(date, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return 0;
    char forms[3][16];
    snprintf(forms[0], sizeof(forms[0]), "%02d%02d%04d", d % 100, m % 100, y % 10000);
    snprintf(forms[1], sizeof(forms[1]), "%02d%02d%02d", d % 100, m % 100, y % 100);
    snprintf(forms[2], sizeof(forms[2]), "%04d%02d%02d", y % 10000, m % 100, d % 100);
    for (int i = 0; i < 3; i++)
        if (strstr(folded_pw, forms[i]))
            return 1;
    return 0;
}

/* cracklib counts every pair of neighbours that differ by one (after
 * lower-casing), anywhere in the password, and refuses above 3 + 0.09 x the
 * length as "systematic": about 1 in 1000 random 24-character passwords
 * trips it. Replays that count, so that its verdict can be told apart. */
static int cracklib_says_systematic(const char *pw)
{
    char low[PASSWORD_MAX_CHARS * 4 + 1];
    size_t n = strlen(pw);
    if (n >= sizeof(low))
        return 0;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)pw[i]);
    while (n > 0 && isspace((unsigned char)low[n - 1]))
        low[--n] = '\0';
    const char *p = low;
    while (*p && isspace((unsigned char)*p))
        p++;
    int steps = 0;
    for (; p[0] && p[1]; p++)
        if (p[1] == p[0] + 1 || p[1] == p[0] - 1)
            steps++;
    int max = (int)(3 + 0.09 * (double)strlen(low));
    return steps > max;
}

/* What cracklib's count meant to catch: a walk along the alphabet or the
 * digits, or too few different characters. */
static int is_walk(const char *pw)
{
    int run = 0, distinct = 0;
    unsigned char seen[256] = {0};
    for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
        if (!seen[*p]++)
            distinct++;
        int a = tolower(p[0]), b = p[1] ? tolower(p[1]) : -10;
        run = (b == a + 1 || b == a - 1) ? run + 1 : 0;
        if (run >= WALK_STEPS)
            return 1;
    }
    return distinct < 5;
}

/* Letters as people write them with digits and symbols ("P@ssw0rd"). One
 * stands for i or l: both are tried. */
static char *unleet(portail_arena_t *a, const char *s, size_t n, char one)
{
    char *out = portail_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        switch (c) {
        case '@':
        case '4':
            c = 'a';
            break;
        case '0':
            c = 'o';
            break;
        case '1':
            c = one;
            break;
        case '3':
            c = 'e';
            break;
        case '5':
        case '$':
            c = 's';
            break;
        case '7':
            c = 't';
            break;
        default:
            break;
        }
        out[i] = c;
    }
    out[n] = '\0';
    return out;
}

static int is_letter(unsigned char c)
{
    return isalpha(c) || c >= 0x80;
}

/* The word under the decoration: the password without the digits and
 * symbols added at either end, in lower case, l33t undone, accents folded,
 * tried against the cracklib dictionary (which script/cracklib-dict fills
 * with the common and breached passwords of zxcvbn-ts and this service's
 * name) and the fund's name and its words. */
/* cracklib keeps the open dictionary in one static structure, so this holds
 * the only one, opened once (opening costs more than the checks), under
 * crack_mu. FindPW answers the word count when a word is absent; '#' never
 * is (cracklib-format keeps letters and digits only). */
static PWDICT *dict;
static const char *dict_path;
static unsigned int dict_absent;

static PWDICT *dict_open(portail_ctx_t *ctx)
{
    const char *path = ctx->host->conf->password_dict;
    if (dict && dict_path != path) {
        PWClose(dict);
        dict = NULL;
    }
    if (!dict) {
        dict = PWOpen(path, "r");
        dict_path = path;
        dict_absent = dict ? FindPW(dict, "#") : 0;
        if (!dict)
            portail_log_error(ctx, "password dictionary %s cannot be opened", path);
    }
    return dict;
}

/* Between two words of the fund's name: a space, a hyphen, or an apostrophe,
 * straight or typographic ("caisse d’Assurance Maladie"); its length. */
static size_t word_gap(const char *w)
{
    if (*w == ' ' || *w == '\'' || *w == '-')
        return 1;
    return strncmp(w, "\u2019", 3) == 0 ? 3 : 0;
}

static int is_common(portail_ctx_t *ctx, const char *pw)
{
    size_t n = strlen(pw), lead = 0, trail = n;
    while (lead < n && !is_letter((unsigned char)pw[lead]))
        lead++;
    while (trail > lead && !is_letter((unsigned char)pw[trail - 1]))
        trail--;
    const char *fund = ctx->host->conf->fund_name ? ctx->host->conf->fund_name : "";
    const char *fund_all = fold(ctx->arena, fund);
    const char *candidates[16];
    size_t nc = 0;
    const size_t starts[2] = {0, lead}, ends[2] = {trail, n};
    for (int si = 0; si < 2; si++)
        for (int ei = 0; ei < 2; ei++) {
            size_t b = starts[si], e = ends[ei];
            if (e <= b)
                continue;
            candidates[nc++] = fold(ctx->arena, unleet(ctx->arena, pw + b, e - b, 'i'));
            candidates[nc++] = fold(ctx->arena, unleet(ctx->arena, pw + b, e - b, 'l'));
            char *plain = portail_alloc(ctx->arena, e - b + 1);
            memcpy(plain, pw + b, e - b);
            plain[e - b] = '\0';
            candidates[nc++] = fold(ctx->arena, plain);
        }
    int found = 0;
    pthread_mutex_lock(&crack_mu);
    PWDICT *d = dict_open(ctx);
    for (size_t i = 0; i < nc && !found; i++) {
        const char *c = candidates[i];
        size_t len = strlen(c);
        if (len < COMMON_MIN_CHARS)
            continue;
        if (strlen(fund_all) >= COMMON_MIN_CHARS && strcmp(c, fund_all) == 0)
            found = 1;
        /* The fund's name word by word ("CPAM de Lutèce": "lutece"). */
        for (const char *w = fund; *w && !found;) {
            size_t k = 0;
            while (w[k] && !word_gap(w + k))
                k++;
            char *word = portail_alloc(ctx->arena, k + 1);
            memcpy(word, w, k);
            word[k] = '\0';
            const char *fw = fold(ctx->arena, word);
            if (strlen(fw) >= COMMON_MIN_CHARS && strcmp(c, fw) == 0)
                found = 1;
            w += k;
            for (size_t g; (g = word_gap(w)) != 0;)
                w += g;
        }
        if (!found && d && len < 1024 && FindPW(d, (char *)c) != dict_absent)
            found = 1;
    }
    pthread_mutex_unlock(&crack_mu);
    return found;
}

const char *portail_password_problem(portail_ctx_t *ctx, const char *password,
                                     const char *const *context)
{
    size_t n = password ? strlen(password) : 0;
    size_t chars = utf8_chars(password ? password : "", n);
    if (chars < PASSWORD_MIN_CHARS)
        return TXT_PASSWORD_TROP_COURT;
    if (chars > PASSWORD_MAX_CHARS || n > 4 * PASSWORD_MAX_CHARS)
        return TXT_PASSWORD_TROP_LONG;
    if (memchr(password, '\0', n) || !portail_utf8_valid(password, n))
        return TXT_PASSWORD_CARACTERES_NON_VALIDES;
    const char *folded = fold(ctx->arena, password);
    for (const char *const *c = context; c && *c; c++) {
        if (contains_date(folded, *c))
            return TXT_PASSWORD_CONTIENT_DATE_NAISSANCE;
        const char *word = fold(ctx->arena, *c);
        if (strlen(word) >= CONTEXT_MIN_CHARS && strstr(folded, word))
            return TXT_PASSWORD_CONTIENT_IDENTITE;
    }
    if (is_common(ctx, password))
        return TXT_PASSWORD_TROP_COURANT;
    pthread_mutex_lock(&crack_mu);
    PWDICT *d = dict_open(ctx);
    char *copy = portail_strdup(ctx->arena, password);
    const char *weak = d ? FascistLook(d, copy) : "dictionnaire absent";
    pthread_mutex_unlock(&crack_mu);
    /* Its step count refuses random passwords; a real walk is still refused,
     * and the dictionary was asked above. */
    if (weak && cracklib_says_systematic(password) && !is_walk(password))
        weak = NULL;
    if (weak) {
        portail_log_info(ctx, "password refused by cracklib: %s", weak);
        return TXT_PASSWORD_TROP_FACILE;
    }
    return NULL;
}

/* The hashing slots. A request that finds them all taken waits for one, in
 * arrival order, up to server.hash_wait_ms, and at most server.hash_queue
 * requests wait at once: a waiting request holds a FastCGI worker thread,
 * so an unbounded queue would take every thread from the other routes. A
 * freed slot is handed to the oldest waiter directly, so that a request
 * arriving just then cannot take it from under a queue that waited longer.
 * Refusing at once instead (hash_wait_ms = 0) sends a flood straight back
 * at nginx, whose retries then take the CPU that the hashes need. */
typedef struct slot_waiter {
    struct slot_waiter *next;
    pthread_cond_t cv;
    int granted;
} slot_waiter_t;

static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static int slots_running, slots_waiting;
static slot_waiter_t *queue_head, *queue_tail;

static void refuse_busy(portail_ctx_t *ctx)
{
    portail_problem_retry(ctx, 503, 1, NULL, TXT_PASSWORD_SERVICE_TRES_SOLLICITE);
}

/* Under slot_mu: 1 when a request arriving now would be refused at once. */
static int full_locked(const portail_conf_t *conf)
{
    if (slots_running < conf->hash_slots && !queue_head)
        return 0;
    return conf->hash_wait_ms == 0 || slots_waiting >= conf->hash_queue;
}

static void queue_remove(slot_waiter_t *w)
{
    slot_waiter_t **pp = &queue_head, *prev = NULL;
    while (*pp && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = w->next;
    if (queue_tail == w)
        queue_tail = prev;
}

static int take_slot(portail_ctx_t *ctx)
{
    const portail_conf_t *conf = ctx->host->conf;
    pthread_mutex_lock(&slot_mu);
    if (slots_running < conf->hash_slots && !queue_head) {
        slots_running++;
        pthread_mutex_unlock(&slot_mu);
        return 0;
    }
    if (full_locked(conf)) {
        pthread_mutex_unlock(&slot_mu);
        refuse_busy(ctx);
        return -1;
    }
    slot_waiter_t w = {.next = NULL, .granted = 0};
    if (portail_cond_init_monotonic(&w.cv) != 0) {
        pthread_mutex_unlock(&slot_mu);
        refuse_busy(ctx);
        return -1;
    }
    struct timespec deadline;
    portail_deadline_in(&deadline, conf->hash_wait_ms);
    if (queue_tail)
        queue_tail->next = &w;
    else
        queue_head = &w;
    queue_tail = &w;
    slots_waiting++;
    int rc = 0;
    while (!w.granted && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w.cv, &slot_mu, &deadline);
    slots_waiting--;
    /* granted: give_slot already dequeued it and counted the slot as ours. */
    if (!w.granted)
        queue_remove(&w);
    int granted = w.granted;
    pthread_mutex_unlock(&slot_mu);
    pthread_cond_destroy(&w.cv);
    if (!granted) {
        refuse_busy(ctx);
        return -1;
    }
    return 0;
}

int portail_password_busy(portail_ctx_t *ctx)
{
    pthread_mutex_lock(&slot_mu);
    int full = full_locked(ctx->host->conf);
    pthread_mutex_unlock(&slot_mu);
    if (full)
        refuse_busy(ctx);
    return full;
}

static void give_slot(void)
{
    pthread_mutex_lock(&slot_mu);
    slot_waiter_t *w = queue_head;
    if (w) {
        /* The slot passes to the oldest waiter: slots_running stays. */
        queue_head = w->next;
        if (!queue_head)
            queue_tail = NULL;
        w->next = NULL;
        w->granted = 1;
        pthread_cond_signal(&w->cv);
    } else {
        slots_running--;
    }
    pthread_mutex_unlock(&slot_mu);
}

int portail_password_hash(portail_ctx_t *ctx, const char *password, const char **out)
{
    if (take_slot(ctx) < 0)
        return -2;
    char *h = portail_alloc(ctx->arena, crypto_pwhash_STRBYTES);
    portail_hashmem_t *mem = portail_hashmem_take();
    int rc = crypto_pwhash_str(h, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    portail_hashmem_give(mem);
    give_slot();
    if (rc != 0) {
        portail_log_error(ctx, "password hash failed (out of memory?)");
        portail_problem(ctx, 500, NULL, NULL);
        return -1;
    }
    *out = h;
    return 0;
}

static void make_dummy(void)
{
    unsigned char pw[16];
    randombytes_buf(pw, sizeof(pw));
    if (crypto_pwhash_str(dummy_hash, (const char *)pw, sizeof(pw),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = '\0';
}

int portail_password_verify(portail_ctx_t *ctx, const char *hash, const char *password)
{
    pthread_once(&dummy_once, make_dummy);
    if (take_slot(ctx) < 0)
        return -2;
    const char *h = hash && *hash ? hash : dummy_hash;
    portail_hashmem_t *mem = portail_hashmem_take();
    int rc = crypto_pwhash_str_verify(h, password, strlen(password));
    portail_hashmem_give(mem);
    give_slot();
    return hash && *hash && rc == 0 ? 1 : 0;
}

/* For GET /metrics (core/metrics.c). */
int portail_password_hashes_busy(void)
{
    pthread_mutex_lock(&slot_mu);
    int n = slots_running;
    pthread_mutex_unlock(&slot_mu);
    return n;
}
