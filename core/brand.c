/* The fund's brand on the pages. The pages are static, with the header and
 * the footer included by nginx (SSI, web/partials/); what depends on the
 * config (the `brand` group and the enabled modules) is written once at
 * start, by portaild, as small fragments into `brand.partials_dir` (the
 * web root's partials/marque/), which the partials include with a neutral
 * default (`stub`) should a fragment be missing. No page costs a FastCGI
 * call for it.
 *
 * The République française block and the Marianne font are reserved to
 * State services by the DSFR's terms: they appear only with
 * `brand.state_service = true`; otherwise the header is neutral, with the
 * fund's logo and name, and the pages keep the system fonts of
 * css/portail.css. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "portail/texts.h"

/* brand.phone as written ("36 46") and as dialled ("3646": tel: links),
 * made at start (portail_brand_texts), before the fragments. */
static char brand_phone[32] = "36 46", brand_tel[32] = "3646";

static void esc(FILE *f, const char *s)
{
    if (s)
        portail_html_write(f, s, strlen(s));
}

static int mkdirs(const char *path)
{
    char tmp[1100];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

typedef void (*writer_fn)(FILE *f, const portail_conf_t *c, const void *arg);

/* dir/name written whole (temporary file, then rename): nginx never
 * includes half a fragment. */
static int put(const char *dir, const char *name, writer_fn fn, const portail_conf_t *c,
               const void *arg, char *err, size_t errlen)
{
    char path[1200], tmp[1220];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s/.%s.%ld", dir, name, (long)getpid()) >= (int)sizeof tmp) {
        snprintf(err, errlen, "brand.partials_dir: path too long");
        return -1;
    }
    FILE *f = fopen(tmp, "we");
    if (!f) {
        snprintf(err, errlen, "brand.partials_dir: cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    fn(f, c, arg);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || chmod(tmp, 0644) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "brand.partials_dir: cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static const char *logo_alt(const portail_conf_t *c)
{
    return *c->brand.logo_alt ? c->brand.logo_alt : c->brand.name;
}

/* The logo's own size lets the browser keep its room before the image
 * comes (no layout shift, Lighthouse's "unsized-images"). */
static void logo_img(FILE *f, const portail_conf_t *c, const char *cls)
{
    fprintf(f, "<img class=\"%s\" src=\"", cls);
    esc(f, c->brand.logo);
    fputs("\" alt=\"", f);
    esc(f, logo_alt(c));
    fputc('"', f);
    if (c->brand.logo_width > 0 && c->brand.logo_height > 0)
        fprintf(f, " width=\"%d\" height=\"%d\"", c->brand.logo_width, c->brand.logo_height);
    fputc('>', f);
}

/* The left of the header's brand row (before the menu button). */
static void w_logo(FILE *f, const portail_conf_t *c, const void *arg)
{
    (void)arg;
    if (c->brand.state_service)
        fputs("<div class=\"fr-header__logo\">\n"
              "  <p class=\"fr-logo\">République<br>Française</p>\n"
              "</div>\n",
              f);
    if (*c->brand.logo) {
        fputs("<div class=\"fr-header__operator\">\n  ", f);
        logo_img(f, c, "portail-logo");
        fputs("\n</div>\n", f);
    }
    fputs(c->brand.state_service ? "<!-- brand.state_service = true -->\n"
                                 : "<!-- neutral header: brand.state_service = false -->\n",
          f);
}

static void w_name(FILE *f, const portail_conf_t *c, const void *arg)
{
    (void)arg;
    esc(f, c->brand.name);
}

/* The inside of the footer's fr-footer__brand. */
static void w_footer_brand(FILE *f, const portail_conf_t *c, const void *arg)
{
    (void)arg;
    if (c->brand.state_service) {
        fputs("<p class=\"fr-logo\">République<br>Française</p>\n", f);
    }
    fputs("<a class=\"fr-footer__brand-link\" href=\"/\" title=\"Retour à l’accueil — ", f);
    esc(f, c->brand.name);
    fputs("\">", f);
    if (*c->brand.logo) {
        logo_img(f, c, "fr-footer__logo portail-logo");
    } else {
        fputs("<span class=\"portail-marque\">", f);
        esc(f, c->brand.name);
        fputs("</span>", f);
    }
    fputs("</a>\n", f);
}

/* "Une question ? Appelez le 36 46 (service gratuit + prix d’un appel)."
 * and the contact page when there is one. */
static void w_contact(FILE *f, const portail_conf_t *c, const void *arg)
{
    (void)arg;
    if (*c->brand.phone) {
        fputs("Une question\u00a0? Appelez le <a href=\"tel:", f);
        esc(f, brand_tel);
        fputs("\">", f);
        esc(f, c->brand.phone);
        fputs("</a>", f);
        if (*c->brand.phone_note) {
            fputs(" (", f);
            esc(f, c->brand.phone_note);
            fputc(')', f);
        }
        fputs(".", f);
    }
    if (*c->brand.contact_url) {
        fputs(*c->brand.phone ? " Ou écrivez-nous depuis <a href=\""
                              : "Écrivez-nous depuis <a href=\"",
              f);
        esc(f, c->brand.contact_url);
        fputs("\">la page de contact</a>.", f);
    }
}

/* One sentence for every "call your fund" of the API's messages and the
 * lock mails, so that none names another number than the footer's. Made
 * once at start (portail_host_load), before any thread reads it; the
 * defaults are the config's own (36 46 and its note). */
static char call_fund[2][160] = {
    "appelez votre caisse au 36 46 (service gratuit + prix d’un appel)",
    "Appelez votre caisse au 36 46 (service gratuit + prix d’un appel)",
};

void portail_brand_texts(const portail_conf_t *c)
{
    const char *phone = c->brand.phone ? c->brand.phone : "";
    const char *note = c->brand.phone_note ? c->brand.phone_note : "";
    snprintf(brand_phone, sizeof brand_phone, "%s", phone);
    size_t t = 0;
    for (const char *p = phone; *p && t + 1 < sizeof brand_tel; p++)
        if (*p != ' ')
            brand_tel[t++] = *p;
    brand_tel[t] = '\0';
    if (!*phone)
        snprintf(call_fund[0], sizeof call_fund[0], TXT_BRAND_APPEL_SANS_NUMERO);
    else if (!*note)
        snprintf(call_fund[0], sizeof call_fund[0], TXT_BRAND_APPEL_NUMERO, phone);
    else
        snprintf(call_fund[0], sizeof call_fund[0], TXT_BRAND_APPEL_NUMERO_NOTE, phone, note);
    memcpy(call_fund[1], call_fund[0], sizeof call_fund[1]);
    call_fund[1][0] = (char)(call_fund[1][0] - 'a' + 'A');
}

const char *portail_call_fund(int capital)
{
    return call_fund[capital ? 1 : 0];
}

const char *portail_brand_phone(const char **tel)
{
    if (tel)
        *tel = brand_tel;
    return brand_phone;
}

static void w_phone(FILE *f, const portail_conf_t *c, const void *arg)
{
    (void)arg;
    esc(f, *c->brand.phone ? c->brand.phone : "36 46");
}

/* The State's font, only for a State service (css/marianne.css). */
static void w_font(FILE *f, const portail_conf_t *c, const void *arg)
{
    (void)arg;
    if (c->brand.state_service)
        fputs("<link rel=\"stylesheet\" href=\"/css/marianne.css\">\n", f);
    else
        fputs("<!-- system fonts: brand.state_service = false -->\n", f);
}

struct mods {
    const portail_loaded_module_t *v;
    size_t n;
};

struct entry {
    const portail_nav_t *nav;
    size_t seq;
};

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->nav->order != y->nav->order)
        return x->nav->order < y->nav->order ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The member menu's entries of the enabled modules, as list items: what
 * the site map and the footer promise is what runs. */
static void w_plan(FILE *f, const portail_conf_t *c, const void *arg)
{
    (void)c;
    const struct mods *m = arg;
    size_t cap = 0, n = 0, seq = 0;
    for (size_t i = 0; i < m->n; i++)
        for (const portail_nav_t *v = m->v[i].desc->nav; v && v->label; v++)
            cap++;
    struct entry *e = calloc(cap ? cap : 1, sizeof *e);
    if (!e)
        return;
    for (size_t i = 0; i < m->n; i++)
        for (const portail_nav_t *v = m->v[i].desc->nav; v && v->label; v++, seq++)
            if (m->v[i].enabled && v->menu == PORTAIL_MENU_MEMBER)
                e[n++] = (struct entry){v, seq};
    qsort(e, n, sizeof *e, entry_cmp);
    for (size_t i = 0; i < n; i++) {
        fputs("<li><a href=\"", f);
        esc(f, e[i].nav->href);
        fputs("\">", f);
        esc(f, e[i].nav->label);
        fputs("</a>", f);
        if (e[i].nav->text) {
            fputs(" — ", f);
            esc(f, e[i].nav->text);
        }
        fputs("</li>\n", f);
    }
    if (n == 0)
        fputs("<!-- no module with a member page is enabled -->\n", f);
    free(e);
}

static void w_number(FILE *f, const portail_conf_t *c, const void *arg)
{
    (void)c;
    fprintf(f, "%lld", *(const long long *)arg);
}

/* The plural mark of a number in French: "s" from 2 on ("1 erreur", "5
 * erreurs"). The singular's mark is an HTML comment rather than nothing: SSI
 * shows an include's stub (partials/reglage-s.html: "s", for "plusieurs")
 * when the fragment is empty. */
static void w_plural(FILE *f, const portail_conf_t *c, const void *arg)
{
    (void)c;
    fputs(*(const long long *)arg >= 2 ? "s" : "<!-- singulier -->", f);
}

/* The settings the enabled modules let the pages say (on_pages), two
 * fragments each: reglages/MODULE.NAME.html, the number, and
 * reglages/MODULE.NAME.s.html, its plural mark for the noun that follows
 * (partials/reglage.html and reglage-s.html): a page warns of the number of
 * errors the config really allows, in the singular at 1, and a restart
 * keeps it true. */
static int render_settings(const char *dir, const portail_conf_t *c,
                           const portail_loaded_module_t *mods, size_t n, char *err, size_t errlen)
{
    char sub[1100];
    if (snprintf(sub, sizeof sub, "%s/reglages", dir) >= (int)sizeof sub || mkdirs(sub) != 0) {
        snprintf(err, errlen, "brand.partials_dir: cannot create %s/reglages", dir);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!mods[i].enabled)
            continue;
        for (const portail_setting_t *s = mods[i].desc->settings; s && s->name; s++) {
            if (!s->on_pages)
                continue;
            char name[200], mark[210];
            long long v = portail_settings_int(&mods[i].settings, s->name);
            snprintf(name, sizeof name, "%s.%s.html", mods[i].desc->name, s->name);
            snprintf(mark, sizeof mark, "%s.%s.s.html", mods[i].desc->name, s->name);
            if (put(sub, name, w_number, c, &v, err, errlen) != 0 ||
                put(sub, mark, w_plural, c, &v, err, errlen) != 0)
                return -1;
        }
    }
    return 0;
}

int portail_brand_render(const portail_conf_t *c, const portail_loaded_module_t *mods, size_t n,
                         char *err, size_t errlen)
{
    const char *dir = c->brand.partials_dir;
    if (!dir || !*dir)
        return 0;
    if (mkdirs(dir) != 0) {
        snprintf(err, errlen, "brand.partials_dir: cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    struct mods m = {mods, n};
    static const struct {
        const char *name;
        writer_fn fn;
    } files[] = {
        {"logo.html", w_logo},
        {"nom.html", w_name},
        {"pied-marque.html", w_footer_brand},
        {"contact.html", w_contact},
        {"telephone.html", w_phone},
        {"police.html", w_font},
        {"plan.html", w_plan},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (put(dir, files[i].name, files[i].fn, c, &m, err, errlen) != 0)
            return -1;
    return render_settings(dir, c, mods, n, err, errlen);
}
