/* PDF service: modules describe blocks (title, paragraph, key/value, table,
 * QR code), this file places them with libharu. Layout runs once per render
 * on a fresh libharu document; pages are kept so that the header, footer and
 * "Page n / N" are drawn at the end, once N is known. The font is a TTF
 * (DejaVu by default) loaded with the UTF-8 encoder so accents, « », œ and
 * the euro sign come out as they are. */
#include <hpdf.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "portail/pdf.h"

#define MAX_BLOCKS 1000
#define MAX_ROWS 10000
#define MAX_COLS 12
#define MAX_TEXT 4000
#define MAX_QR 512

#define PAGE_W 595.276f /* A4 in points */
#define PAGE_H 841.89f
#define MARGIN 50.0f
#define HEADER_H 80.0f
#define FOOTER_H 40.0f

static struct {
    const char *fund_name, *address, *font, *font_bold;
    unsigned char *logo_png; /* the file's bytes, read once; NULL without a logo */
    size_t logo_len;
} pdf_conf = {"votre caisse d’Assurance Maladie",
              "",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
              NULL,
              0};

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* libharu hands a PNG to libpng without a recovery point, so a damaged file
 * aborts the process: its chunks (signature, IHDR first, CRCs, IEND) are
 * checked here first. */
static int png_ok(const unsigned char *buf, size_t n)
{
    int ok = n > 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0;
    size_t i = 8;
    int first = 1, end = 0;
    while (ok && !end) {
        if (n - i < 12) {
            ok = 0;
            break;
        }
        uint32_t len = be32(buf + i);
        if (len > n - i - 12) {
            ok = 0;
            break;
        }
        if (first && memcmp(buf + i + 4, "IHDR", 4) != 0)
            ok = 0;
        if (crc32_of(buf + i + 4, (size_t)len + 4) != be32(buf + i + 8 + len))
            ok = 0;
        end = memcmp(buf + i + 4, "IEND", 4) == 0;
        first = 0;
        i += (size_t)len + 12;
    }
    return ok && end;
}

/* The whole file (at most 4 MiB) in a malloc'd buffer, or NULL. */
/* A logo larger than this is not a logo. */
#define LOGO_MAX_BYTES ((size_t)4 << 20)

static unsigned char *slurp(const char *path, size_t *len)
{
    int too_big = 0;
    return (unsigned char *)portail_file_read(path, LOGO_MAX_BYTES, len, &too_big);
}

static void check_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user)
{
    (void)error_no;
    (void)detail_no;
    *(int *)user = 1;
}

int portail_pdf_configure(const char *fund_name, const char *address, const char *logo,
                          const char *font, const char *font_bold, char *err, size_t errlen)
{
    const char *files[] = {font, font_bold, logo && *logo ? logo : NULL};
    for (size_t i = 0; i < 3; i++)
        if (files[i] && access(files[i], R_OK) != 0) {
            snprintf(err, errlen, "pdf: cannot read %s", files[i]);
            return -1;
        }
    /* The logo is read once here and every render draws it from memory: a
     * broken file stops the start, and a file changed on disk later cannot
     * reach libpng unchecked. The fonts are loaded once here too, so that a
     * file libharu cannot use stops the start rather than every render. */
    unsigned char *png = NULL;
    size_t png_len = 0;
    if (logo && *logo && (!(png = slurp(logo, &png_len)) || !png_ok(png, png_len))) {
        free(png);
        snprintf(err, errlen, "pdf: %s is not a well-formed PNG image", logo);
        return -1;
    }
    int bad = 0, rc = 0;
    HPDF_Doc d = HPDF_New(check_error, &bad);
    if (!d) {
        snprintf(err, errlen, "pdf: libharu cannot start");
        rc = -1;
    } else {
        HPDF_UseUTFEncodings(d);
        const char *fonts[] = {font, font_bold};
        for (size_t i = 0; i < 2 && rc == 0; i++) {
            const char *name = HPDF_LoadTTFontFromFile(d, fonts[i], HPDF_TRUE);
            if (!name || bad || !HPDF_GetFont(d, name, "UTF-8") || bad) {
                snprintf(err, errlen, "pdf: %s is not a TrueType font libharu can use", fonts[i]);
                rc = -1;
            }
        }
        if (rc == 0 && png && (!HPDF_LoadPngImageFromMem(d, png, (HPDF_UINT)png_len) || bad)) {
            snprintf(err, errlen, "pdf: %s is not a PNG image libharu can read", logo);
            rc = -1;
        }
        HPDF_Free(d);
    }
    if (rc != 0) {
        free(png);
        return -1;
    }
    free(pdf_conf.logo_png);
    pdf_conf.logo_png = png;
    pdf_conf.logo_len = png_len;
    pdf_conf.fund_name = fund_name;
    pdf_conf.address = address ? address : "";
    pdf_conf.font = font;
    pdf_conf.font_bold = font_bold;
    return 0;
}

enum block_kind { B_TITLE, B_PARA, B_KV, B_TABLE, B_QR };

struct block {
    enum block_kind kind;
    const char *a, *b;
    const portail_pdf_column_t *cols;
    size_t ncols, nrows;
    const char *const *cells;
    struct block *next;
};

struct portail_pdf {
    portail_arena_t *arena;
    const char *title, *footer;
    struct block *head, *tail;
    size_t nblocks;
    /* render state */
    HPDF_Doc doc;
    HPDF_Font font, bold;
    HPDF_Page *pages;
    size_t npages, cap;
    HPDF_Page page;
    float y;
    int failed;
};

static char *clip(portail_arena_t *a, const char *s)
{
    if (!s)
        return NULL;
    char *c = portail_clip_utf8(a, s, MAX_TEXT);
    return c ? c : portail_strdup(a, "");
}

portail_pdf_t *portail_pdf_new(portail_arena_t *a, const portail_pdf_meta_t *meta)
{
    if (!a || !meta || !meta->title || !*meta->title)
        return NULL;
    portail_pdf_t *p = portail_calloc(a, sizeof(*p));
    p->arena = a;
    p->title = clip(a, meta->title);
    p->footer = meta->footer ? clip(a, meta->footer) : NULL;
    return p;
}

static struct block *add(portail_pdf_t *p, enum block_kind k)
{
    if (!p || p->nblocks >= MAX_BLOCKS)
        return NULL;
    struct block *b = portail_calloc(p->arena, sizeof(*b));
    b->kind = k;
    if (p->tail)
        p->tail->next = b;
    else
        p->head = b;
    p->tail = b;
    p->nblocks++;
    return b;
}

int portail_pdf_title(portail_pdf_t *pdf, const char *text)
{
    if (!text)
        return -1;
    struct block *b = add(pdf, B_TITLE);
    if (!b)
        return -1;
    b->a = clip(pdf->arena, text);
    return 0;
}

int portail_pdf_paragraph(portail_pdf_t *pdf, const char *text)
{
    if (!text)
        return -1;
    struct block *b = add(pdf, B_PARA);
    if (!b)
        return -1;
    b->a = clip(pdf->arena, text);
    return 0;
}

int portail_pdf_keyvalue(portail_pdf_t *pdf, const char *key, const char *value)
{
    if (!key)
        return -1;
    struct block *b = add(pdf, B_KV);
    if (!b)
        return -1;
    b->a = clip(pdf->arena, key);
    b->b = clip(pdf->arena, value ? value : "");
    return 0;
}

int portail_pdf_table(portail_pdf_t *pdf, const portail_pdf_column_t *cols, size_t ncols,
                      const char *const *cells, size_t nrows)
{
    if (!pdf || !cols || ncols == 0 || ncols > MAX_COLS || nrows > MAX_ROWS || (nrows && !cells))
        return -1;
    for (size_t c = 0; c < ncols; c++)
        if (!(cols[c].width > 0) || cols[c].width > 1000)
            return -1;
    struct block *b = add(pdf, B_TABLE);
    if (!b)
        return -1;
    portail_pdf_column_t *cc = portail_alloc(pdf->arena, ncols * sizeof(*cc));
    for (size_t c = 0; c < ncols; c++) {
        cc[c] = cols[c];
        cc[c].title = clip(pdf->arena, cols[c].title ? cols[c].title : "");
    }
    const char **cp = portail_alloc(pdf->arena, (nrows * ncols + 1) * sizeof(*cp));
    for (size_t i = 0; i < nrows * ncols; i++)
        cp[i] = clip(pdf->arena, cells[i] ? cells[i] : "");
    b->cols = cc;
    b->ncols = ncols;
    b->cells = cp;
    b->nrows = nrows;
    return 0;
}

int portail_pdf_qrcode(portail_pdf_t *pdf, const char *text, const char *caption)
{
    if (!text || !*text || strlen(text) > MAX_QR)
        return -1;
    struct block *b = add(pdf, B_QR);
    if (!b)
        return -1;
    b->a = portail_strdup(pdf->arena, text);
    b->b = caption ? clip(pdf->arena, caption) : NULL;
    return 0;
}

/* ---- layout ---------------------------------------------------------------------- */

static void on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user)
{
    portail_pdf_t *p = user;
    if (!p->failed)
        portail_logf("error", NULL, "pdf: libharu error 0x%04X (detail %u)", (unsigned)error_no,
                     (unsigned)detail_no);
    p->failed = 1;
}

static void free_doc(void *data)
{
    HPDF_Free((HPDF_Doc)data);
}

static float top(void)
{
    return PAGE_H - MARGIN - HEADER_H;
}

static void new_page(portail_pdf_t *p)
{
    HPDF_Page pg = HPDF_AddPage(p->doc);
    if (!pg) {
        p->failed = 1;
        return;
    }
    HPDF_Page_SetSize(pg, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    if (p->npages == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 8;
        HPDF_Page *np = portail_alloc(p->arena, ncap * sizeof(*np));
        if (p->npages)
            memcpy(np, p->pages, p->npages * sizeof(*np));
        p->pages = np;
        p->cap = ncap;
    }
    p->pages[p->npages++] = pg;
    p->page = pg;
    p->y = top();
}

/* Makes room for h points below the cursor, on a new page if needed. */
static int need(portail_pdf_t *p, float h)
{
    if (p->y - h < MARGIN + FOOTER_H) {
        new_page(p);
        return 1;
    }
    return 0;
}

static void text_at(portail_pdf_t *p, HPDF_Font f, float size, float x, float y, const char *s)
{
    HPDF_Page_BeginText(p->page);
    HPDF_Page_SetFontAndSize(p->page, f, size);
    HPDF_Page_TextOut(p->page, x, y, s);
    HPDF_Page_EndText(p->page);
}

static float width_of(portail_pdf_t *p, HPDF_Font f, float size, const char *s)
{
    HPDF_Page_SetFontAndSize(p->page, f, size);
    return HPDF_Page_TextWidth(p->page, s);
}

static size_t utf8_prev(const char *s, size_t i)
{
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    return i > 0 ? i - 1 : 0;
}

/* s cut (at a character boundary) so that it fits w, with "…" when cut. */
static const char *fit(portail_pdf_t *p, HPDF_Font f, float size, const char *s, float w)
{
    if (width_of(p, f, size, s) <= w)
        return s;
    size_t n = strlen(s);
    char *buf = portail_alloc(p->arena, n + 4);
    while (n > 0) {
        n = utf8_prev(s, n);
        memcpy(buf, s, n);
        memcpy(buf + n, "\xE2\x80\xA6", 4);
        if (width_of(p, f, size, buf) <= w)
            return buf;
    }
    return "";
}

/* Greedy word wrap; a word wider than the line is cut on its own line. */
static void wrapped(portail_pdf_t *p, HPDF_Font f, float size, float x, float w, const char *s)
{
    float lh = size * 1.4f;
    size_t len = strlen(s);
    char *line = portail_alloc(p->arena, len + 4);
    size_t start = 0;
    while (start < len) {
        while (start < len && (s[start] == ' ' || s[start] == '\n'))
            start++;
        if (start >= len)
            break;
        size_t best = 0, i = start;
        while (i <= len) {
            if (i == len || s[i] == ' ' || s[i] == '\n') {
                memcpy(line, s + start, i - start);
                line[i - start] = '\0';
                if (best && width_of(p, f, size, line) > w)
                    break;
                best = i;
                if (i == len || s[i] == '\n')
                    break;
            }
            i++;
        }
        if (!best)
            best = len;
        memcpy(line, s + start, best - start);
        line[best - start] = '\0';
        need(p, lh);
        p->y -= lh;
        text_at(p, f, size, x, p->y, fit(p, f, size, line, w));
        start = best;
    }
}

static void table_header(portail_pdf_t *p, const struct block *b, const float *xs, const float *ws)
{
    float rh = 18.0f;
    p->y -= rh;
    HPDF_Page_SetRGBFill(p->page, 0.90f, 0.92f, 0.97f);
    HPDF_Page_Rectangle(p->page, MARGIN, p->y - 4, PAGE_W - 2 * MARGIN, rh);
    HPDF_Page_Fill(p->page);
    HPDF_Page_SetRGBFill(p->page, 0, 0, 0);
    for (size_t c = 0; c < b->ncols; c++)
        text_at(p, p->bold, 9, xs[c] + 3, p->y + 1,
                fit(p, p->bold, 9, b->cols[c].title, ws[c] - 6));
}

static void table(portail_pdf_t *p, const struct block *b)
{
    float xs[MAX_COLS], ws[MAX_COLS], total = 0, avail = PAGE_W - 2 * MARGIN;
    for (size_t c = 0; c < b->ncols; c++)
        total += (float)b->cols[c].width;
    float x = MARGIN;
    for (size_t c = 0; c < b->ncols; c++) {
        xs[c] = x;
        ws[c] = avail * (float)b->cols[c].width / total;
        x += ws[c];
    }
    float rh = 15.0f;
    need(p, 18.0f + rh + 6);
    p->y -= 6;
    table_header(p, b, xs, ws);
    for (size_t r = 0; r < b->nrows && !p->failed; r++) {
        if (need(p, rh))
            table_header(p, b, xs, ws);
        p->y -= rh;
        for (size_t c = 0; c < b->ncols; c++) {
            const char *s = fit(p, p->font, 9, b->cells[r * b->ncols + c], ws[c] - 6);
            float tw = width_of(p, p->font, 9, s), tx = xs[c] + 3;
            if (b->cols[c].align == PORTAIL_PDF_RIGHT)
                tx = xs[c] + ws[c] - 3 - tw;
            else if (b->cols[c].align == PORTAIL_PDF_CENTER)
                tx = xs[c] + (ws[c] - tw) / 2;
            text_at(p, p->font, 9, tx, p->y, s);
        }
        HPDF_Page_SetRGBStroke(p->page, 0.8f, 0.8f, 0.8f);
        HPDF_Page_SetLineWidth(p->page, 0.5f);
        HPDF_Page_MoveTo(p->page, MARGIN, p->y - 4);
        HPDF_Page_LineTo(p->page, PAGE_W - MARGIN, p->y - 4);
        HPDF_Page_Stroke(p->page);
    }
    p->y -= 8;
}

static void qrcode(portail_pdf_t *p, const struct block *b)
{
    QRcode *qr = QRcode_encodeString(b->a, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        p->failed = 1;
        portail_logf("error", NULL, "pdf: QR code encoding failed");
        return;
    }
    float side = 110.0f, cell = side / (float)(qr->width + 8);
    need(p, side + (b->b ? 20 : 0) + 6);
    p->y -= side + 6;
    HPDF_Page_SetRGBFill(p->page, 0, 0, 0);
    for (int r = 0; r < qr->width; r++)
        for (int c = 0; c < qr->width; c++)
            if (qr->data[r * qr->width + c] & 1)
                HPDF_Page_Rectangle(p->page, MARGIN + (float)(c + 4) * cell,
                                    p->y + side - (float)(r + 5) * cell, cell, cell);
    HPDF_Page_Fill(p->page);
    QRcode_free(qr);
    if (b->b) {
        p->y -= 14;
        text_at(p, p->font, 8, MARGIN, p->y, fit(p, p->font, 8, b->b, PAGE_W - 2 * MARGIN));
    }
}

static void frame(portail_pdf_t *p, size_t n, HPDF_Image logo)
{
    p->page = p->pages[n];
    float x = MARGIN, ytop = PAGE_H - MARGIN;
    float logo_w = 0;
    if (logo) {
        float iw = (float)HPDF_Image_GetWidth(logo), ih = (float)HPDF_Image_GetHeight(logo);
        float h = 50.0f, w = ih > 0 ? iw * h / ih : h;
        if (w > 150) {
            h = h * 150 / w;
            w = 150;
        }
        HPDF_Page_DrawImage(p->page, logo, PAGE_W - MARGIN - w, ytop - h, w, h);
        logo_w = w + 10;
    }
    float avail = PAGE_W - 2 * MARGIN - logo_w;
    text_at(p, p->bold, 12, x, ytop - 12, fit(p, p->bold, 12, pdf_conf.fund_name, avail));
    /* the address: one line per "\n", at most four */
    const char *a = pdf_conf.address;
    float y = ytop - 26;
    for (int i = 0; i < 4 && a && *a; i++) {
        const char *nl = strchr(a, '\n');
        size_t len = nl ? (size_t)(nl - a) : strlen(a);
        char *line = portail_strndup(p->arena, a, len);
        text_at(p, p->font, 8.5f, x, y, fit(p, p->font, 8.5f, line, avail));
        y -= 11;
        a = nl ? nl + 1 : NULL;
    }
    HPDF_Page_SetRGBStroke(p->page, 0, 0, 0.57f);
    HPDF_Page_SetLineWidth(p->page, 1);
    HPDF_Page_MoveTo(p->page, MARGIN, PAGE_H - MARGIN - HEADER_H + 14);
    HPDF_Page_LineTo(p->page, PAGE_W - MARGIN, PAGE_H - MARGIN - HEADER_H + 14);
    HPDF_Page_Stroke(p->page);
    /* footer */
    float fy = MARGIN;
    HPDF_Page_SetRGBStroke(p->page, 0.6f, 0.6f, 0.6f);
    HPDF_Page_SetLineWidth(p->page, 0.5f);
    HPDF_Page_MoveTo(p->page, MARGIN, fy + 14);
    HPDF_Page_LineTo(p->page, PAGE_W - MARGIN, fy + 14);
    HPDF_Page_Stroke(p->page);
    char num[64];
    snprintf(num, sizeof(num), "Page %zu / %zu", n + 1, p->npages);
    float nw = width_of(p, p->font, 8, num);
    text_at(p, p->font, 8, PAGE_W - MARGIN - nw, fy, num);
    if (p->footer)
        text_at(p, p->font, 8, MARGIN, fy,
                fit(p, p->font, 8, p->footer, PAGE_W - 2 * MARGIN - nw - 20));
}

int portail_pdf_render(portail_pdf_t *p, const unsigned char **bytes, size_t *len)
{
    if (!p || !bytes || !len)
        return -1;
    *bytes = NULL;
    *len = 0;
    p->failed = 0;
    p->npages = p->cap = 0;
    p->doc = HPDF_New(on_error, p);
    if (!p->doc) {
        portail_logf("error", NULL, "pdf: HPDF_New failed");
        return -1;
    }
    portail_arena_defer(p->arena, free_doc, p->doc);
    HPDF_SetCompressionMode(p->doc, HPDF_COMP_ALL);
    HPDF_UseUTFEncodings(p->doc);
    HPDF_SetCurrentEncoder(p->doc, "UTF-8");
    const char *fn = HPDF_LoadTTFontFromFile(p->doc, pdf_conf.font, HPDF_TRUE);
    const char *bn = HPDF_LoadTTFontFromFile(p->doc, pdf_conf.font_bold, HPDF_TRUE);
    if (p->failed || !fn || !bn)
        return -1;
    p->font = HPDF_GetFont(p->doc, fn, "UTF-8");
    p->bold = HPDF_GetFont(p->doc, bn, "UTF-8");
    HPDF_Image logo = NULL;
    if (pdf_conf.logo_png) {
        logo = HPDF_LoadPngImageFromMem(p->doc, pdf_conf.logo_png, (HPDF_UINT)pdf_conf.logo_len);
        if (p->failed)
            return -1;
    }
    HPDF_SetInfoAttr(p->doc, HPDF_INFO_TITLE, p->title);
    HPDF_SetInfoAttr(p->doc, HPDF_INFO_CREATOR, "Portail");
    if (p->failed)
        return -1;
    new_page(p);
    float w = PAGE_W - 2 * MARGIN;
    need(p, 24);
    p->y -= 18;
    text_at(p, p->bold, 16, MARGIN, p->y, fit(p, p->bold, 16, p->title, w));
    p->y -= 8;
    for (const struct block *b = p->head; b && !p->failed; b = b->next) {
        switch (b->kind) {
        case B_TITLE:
            need(p, 36);
            p->y -= 24;
            text_at(p, p->bold, 13, MARGIN, p->y, fit(p, p->bold, 13, b->a, w));
            p->y -= 4;
            break;
        case B_PARA:
            wrapped(p, p->font, 10, MARGIN, w, b->a);
            p->y -= 6;
            break;
        case B_KV: {
            float kw = w * 0.35f;
            need(p, 15);
            float y0 = p->y;
            text_at(p, p->bold, 10, MARGIN, y0 - 14, fit(p, p->bold, 10, b->a, kw - 6));
            wrapped(p, p->font, 10, MARGIN + kw, w - kw, b->b);
            if (p->y > y0 - 14)
                p->y = y0 - 14;
            p->y -= 2;
            break;
        }
        case B_TABLE:
            table(p, b);
            break;
        case B_QR:
            qrcode(p, b);
            break;
        }
    }
    for (size_t n = 0; n < p->npages && !p->failed; n++)
        frame(p, n, logo);
    if (p->failed || HPDF_SaveToStream(p->doc) != HPDF_OK)
        return -1;
    HPDF_UINT32 size = HPDF_GetStreamSize(p->doc);
    if (size == 0)
        return -1;
    unsigned char *buf = portail_alloc(p->arena, size);
    HPDF_UINT32 got = size;
    HPDF_STATUS st = HPDF_ReadFromStream(p->doc, buf, &got);
    if ((st != HPDF_OK && st != HPDF_STREAM_EOF) || got != size) {
        portail_logf("error", NULL, "pdf: reading the stream back failed");
        return -1;
    }
    *bytes = buf;
    *len = size;
    return 0;
}
