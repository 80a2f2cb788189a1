/* report_table.h — one model for the report's tables: columns (headings,
 * alignment, the terminal's widths) and rows of cells, built once per table
 * and written by one function per format (terminal text, Markdown, HTML), so
 * that a table is described in one place and each format's markup in one
 * other.  A builder may put format-specific text in a cell (the terminal's
 * "unknown" where the documents say "—"); the shape stays one. */
#ifndef LOCKSTEP_REPORT_TABLE_H
#define LOCKSTEP_REPORT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum { RFMT_TEXT, RFMT_MD, RFMT_HTML } rfmt_t;

struct rcol {
    const char *head;             /* the heading (HTML, and the others unless set) */
    const char *md, *text;        /* Markdown's and the terminal's heading, NULL: head */
    int width;                    /* terminal: printf width, negative left-aligned, 0 none */
    int gap;                      /* terminal: spaces before the column beyond the one */
    bool right;                   /* numbers: right-aligned in Markdown and HTML */
    bool md_left;                 /* but left in Markdown */
};

/* A row spanning the table: a note under the row before it, in the formats
 * of `in` (1 << RFMT_…); the terminal indents it by four spaces. */
#define RT_IN(f) (1u << (f))

struct rtable;

/* A table of ncols columns (copied; their headings must outlive it); html_class: write
 * class="" on right-aligned HTML cells too (the sections that always did). */
struct rtable *rtable_new(const struct rcol *cols, size_t ncols, bool html_class);
void rtable_destroy(struct rtable **t_p);
/* A new row (tr_class: its HTML class, or NULL), then its cells in order;
 * a row with fewer cells than columns ends in its last one, unpadded. */
void rtable_row(struct rtable *t, const char *tr_class);
/* A cell: its text (copied; NULL is ""), an HTML class beside "l" for a
 * left cell (NULL: none), and strong: bold in Markdown. */
void rtable_cell(struct rtable *t, const char *text, const char *cls, bool strong);
/* printf-style cell, plain. */
void rtable_cellf(struct rtable *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rtable_note(struct rtable *t, unsigned in, const char *tr_class, const char *cls,
                 const char *text);
/* Write it: the terminal's heading line and rows (two spaces in), Markdown's
 * pipe table, or HTML's <table>. */
void rtable_write(const struct rtable *t, rfmt_t fmt, FILE *out);



/* The report's tables, each built for one format (report_tables.c,
 * report_cond.c, report_calib.c, report_systems.c).  NULL when out of memory. */
struct report;
struct rphase;
/* Per platform the statistics of a phase's headline metric. */
struct rtable *report_stats_table(const struct report *r, const struct rphase *ph, rfmt_t fmt);
/* Local vs public medians per client platform. */
struct rtable *report_lvp_table(const struct report *r, rfmt_t fmt);
/* The start skew of each phase's lockstep repetitions. */
struct rtable *report_skew_table(const struct report *r, rfmt_t fmt);
/* The expectations with their verdicts (Markdown and HTML). */
struct rtable *report_expect_table(const struct report *r, rfmt_t fmt);
/* The workers, their platform and detection (Markdown and HTML). */
struct rtable *report_workers_table(const struct report *r, rfmt_t fmt);
/* Write t in fmt and destroy it. */
void report_table_out(struct rtable *t, rfmt_t fmt, FILE *out);

#endif
