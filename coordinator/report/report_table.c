/* report_table.c — the report's table model (report_table.h) and its three
 * writers: the terminal's fixed-width columns, Markdown's pipe tables and
 * HTML's <table>, each the one place its format's table markup is made. */
#include "report_table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct rcell {
    char *text, *cls;
    bool strong;
};

struct rrow {
    char *tr_class;
    struct rcell *cells;
    size_t ncells;
    bool note;
    unsigned in;                  /* a note's formats */
};

struct rtable {
    struct rcol *cols;            /* a copy */
    size_t ncols;
    bool html_class;
    struct rrow *rows;
    size_t nrows;
};

static char *s_dupn(const char *s)
{
    return s ? strdup(s) : NULL;
}

struct rtable *rtable_new(const struct rcol *cols, size_t ncols, bool html_class)
{
    struct rtable *t = calloc(1, sizeof *t);
    if (!t || !(t->cols = malloc(ncols * sizeof *cols))) {
        free(t);
        return NULL;
    }
    memcpy(t->cols, cols, ncols * sizeof *cols);
    t->ncols = ncols;
    t->html_class = html_class;
    return t;
}

void rtable_destroy(struct rtable **t_p)
{
    struct rtable *t = *t_p;
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows; i++) {
        for (size_t k = 0; k < t->rows[i].ncells; k++) {
            free(t->rows[i].cells[k].text);
            free(t->rows[i].cells[k].cls);
        }
        free(t->rows[i].cells);
        free(t->rows[i].tr_class);
    }
    free(t->rows);
    free(t->cols);
    free(t);
    *t_p = NULL;
}

static struct rrow *s_add_row(struct rtable *t, const char *tr_class)
{
    struct rrow *r = realloc(t->rows, (t->nrows + 1) * sizeof *r);
    if (!r)
        return NULL;
    t->rows = r;
    r = &t->rows[t->nrows++];
    memset(r, 0, sizeof *r);
    r->tr_class = s_dupn(tr_class);
    return r;
}

void rtable_row(struct rtable *t, const char *tr_class)
{
    if (t)
        s_add_row(t, tr_class);
}

void rtable_cell(struct rtable *t, const char *text, const char *cls, bool strong)
{
    if (!t || !t->nrows)
        return;
    struct rrow *r = &t->rows[t->nrows - 1];
    struct rcell *c = realloc(r->cells, (r->ncells + 1) * sizeof *c);
    if (!c)
        return;
    r->cells = c;
    c[r->ncells++] = (struct rcell){ strdup(text ? text : ""), s_dupn(cls), strong };
}

void rtable_cellf(struct rtable *t, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    rtable_cell(t, buf, NULL, false);
}

void rtable_note(struct rtable *t, unsigned in, const char *tr_class, const char *cls,
                 const char *text)
{
    struct rrow *r = t ? s_add_row(t, tr_class) : NULL;
    if (!r)
        return;
    r->note = true;
    r->in = in;
    rtable_cell(t, text, cls, false);
}

/* One terminal line: the columns' widths, a short row's last cell as is. */
static void s_text_line(const struct rtable *t, const char *const *v, size_t n, FILE *out)
{
    fputs("  ", out);
    for (size_t k = 0; k < n && k < t->ncols; k++) {
        const struct rcol *c = &t->cols[k];
        if (k)
            fprintf(out, " %*s", c->gap, "");
        if (k + 1 == n && n < t->ncols)
            fputs(v[k], out);
        else
            fprintf(out, "%*s", c->width, v[k]);
    }
    fputc('\n', out);
}

static void s_text(const struct rtable *t, FILE *out)
{
    const char *v[32];
    size_t n = t->ncols < 32 ? t->ncols : 32;
    for (size_t k = 0; k < n; k++)
        v[k] = t->cols[k].text ? t->cols[k].text : t->cols[k].head;
    s_text_line(t, v, n, out);
    for (size_t i = 0; i < t->nrows; i++) {
        const struct rrow *r = &t->rows[i];
        if (r->note) {
            if (r->in & RT_IN(RFMT_TEXT))
                fprintf(out, "    %s\n", r->cells[0].text);
            continue;
        }
        for (n = 0; n < r->ncells && n < 32; n++)
            v[n] = r->cells[n].text;
        s_text_line(t, v, n, out);
    }
}

static void s_md(const struct rtable *t, FILE *out)
{
    fputc('|', out);
    for (size_t k = 0; k < t->ncols; k++) {
        fputc(' ', out);
        report_esc_md(out, t->cols[k].md ? t->cols[k].md : t->cols[k].head);
        fputs(" |", out);
    }
    fputs("\n|", out);
    for (size_t k = 0; k < t->ncols; k++)
        fputs(t->cols[k].right && !t->cols[k].md_left ? " ---: |" : " --- |", out);
    fputc('\n', out);
    for (size_t i = 0; i < t->nrows; i++) {
        const struct rrow *r = &t->rows[i];
        if (r->note)
            continue; /* Markdown has no spanning row: its sections say it below */
        fputc('|', out);
        for (size_t k = 0; k < r->ncells; k++) {
            const char *em = r->cells[k].strong ? "**" : "";
            fprintf(out, " %s", em);
            report_esc_md(out, r->cells[k].text);
            fprintf(out, "%s |", em);
        }
        fputc('\n', out);
    }
}

static void s_html_tr(const struct rrow *r, FILE *out)
{
    fputs("<tr", out);
    if (r->tr_class) {
        fputs(" class=\"", out);
        report_esc_html(out, r->tr_class);
        fputc('"', out);
    }
    fputc('>', out);
}

static void s_html(const struct rtable *t, FILE *out)
{
    fputs("<table><tr>", out);
    for (size_t k = 0; k < t->ncols; k++) {
        fputs("<th>", out);
        report_esc_html(out, t->cols[k].head);
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
    for (size_t i = 0; i < t->nrows; i++) {
        const struct rrow *r = &t->rows[i];
        if (r->note && !(r->in & RT_IN(RFMT_HTML)))
            continue;
        s_html_tr(r, out);
        for (size_t k = 0; k < r->ncells; k++) {
            const struct rcell *c = &r->cells[k];
            bool left = r->note || k >= t->ncols || !t->cols[k].right;
            const char *cls = c->cls ? c->cls : "";
            if (left)
                fprintf(out, "<td class=\"l%s%s\"", *cls ? " " : "", cls);
            else if (*cls || t->html_class)
                fprintf(out, "<td class=\"%s\"", cls);
            else
                fputs("<td", out);
            if (r->note)
                fprintf(out, " colspan=\"%zu\"", t->ncols);
            fputc('>', out);
            report_esc_html(out, c->text);
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

void rtable_write(const struct rtable *t, rfmt_t fmt, FILE *out)
{
    if (!t)
        return;
    if (fmt == RFMT_TEXT)
        s_text(t, out);
    else if (fmt == RFMT_MD)
        s_md(t, out);
    else
        s_html(t, out);
}
