/* PDF documents (core/pdf.c, libharu with a TTF font in UTF-8). A module
 * describes a document block by block; the core lays it out: every page gets
 * the fund's header (server.fund_name, pdf.fund_address, pdf.logo), a footer
 * and "Page n / N"; tables continue over pages with their header row
 * repeated. Strings are UTF-8 and copied into the arena; texts are clipped
 * to bounded lengths. Everything lives in the arena and dies with it. */
#ifndef PORTAIL_PDF_H
#define PORTAIL_PDF_H

#include <stddef.h>

#include "portail/arena.h"

typedef struct portail_pdf portail_pdf_t;

typedef struct portail_pdf_meta {
    const char *title;  /* document title (PDF info and first heading), required */
    const char *footer; /* one line at the foot of each page, may be NULL */
    void *reserved[2];
} portail_pdf_meta_t;

typedef enum portail_pdf_align {
    PORTAIL_PDF_LEFT = 0,
    PORTAIL_PDF_RIGHT,
    PORTAIL_PDF_CENTER,
} portail_pdf_align_t;

typedef struct portail_pdf_column {
    const char *title;
    double width; /* share of the page width, relative to the other columns (> 0) */
    portail_pdf_align_t align;
} portail_pdf_column_t;

/* NULL when meta or its title is missing. */
portail_pdf_t *portail_pdf_new(portail_arena_t *a, const portail_pdf_meta_t *meta);
/* Each returns 0, or -1 on a bad argument or a bound passed (1000 blocks,
 * 10000 table rows, 12 columns, 4000 bytes per text). */
int portail_pdf_title(portail_pdf_t *pdf, const char *text);
int portail_pdf_paragraph(portail_pdf_t *pdf, const char *text); /* wrapped */
int portail_pdf_keyvalue(portail_pdf_t *pdf, const char *key, const char *value);
/* cells: nrows * ncols strings, row after row (NULL is an empty cell); a
 * cell too wide for its column is cut with "…". */
int portail_pdf_table(portail_pdf_t *pdf, const portail_pdf_column_t *cols, size_t ncols,
                      const char *const *cells, size_t nrows);
/* A QR code of text (at most 512 bytes) drawn as vector squares, with an
 * optional caption under it. */
int portail_pdf_qrcode(portail_pdf_t *pdf, const char *text, const char *caption);
/* Lays the document out and writes it into arena memory: 0, or -1 (logged). */
int portail_pdf_render(portail_pdf_t *pdf, const unsigned char **bytes, size_t *len);

#endif
