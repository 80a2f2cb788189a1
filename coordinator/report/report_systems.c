/* report_systems.c — the systems table of a report: the host behind every
 * worker (name, CPU, memory, kernel, distribution, disk, what it detected
 * itself to be, its labels), as the Phoronix Test Suite lists the systems it
 * compares, so that a comparison of lab machines says what was compared. */
#include "report.h"
#include "report_table.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *s_or(const char *s, const char *dflt) { return s && *s ? s : dflt; }

static void s_mem(int64_t bytes, char *buf, size_t len)
{
    if (bytes <= 0)
        snprintf(buf, len, "?");
    else
        snprintf(buf, len, "%.1f GiB", (double)bytes / (1 << 30));
}

/* One worker's cells, in table order. */
static void s_cells(const report_t *r, const struct rworker *w, const char *cell[11],
                    char *cores, size_t clen, char *mem, size_t mlen)
{
    (void)r;
    snprintf(cores, clen, "%" PRId64, w->cores);
    s_mem(w->mem_bytes, mem, mlen);
    cell[0] = w->name;
    cell[1] = s_or(w->label, "?");
    cell[2] = s_or(w->hostname, "?");
    cell[3] = s_or(w->cpu_model, "?");
    cell[4] = cores;
    cell[5] = mem;
    cell[6] = s_or(w->kernel, "?");
    cell[7] = s_or(w->distro, "?");
    cell[8] = s_or(w->disk_model, "?");
    cell[9] = s_or(w->detected ? w->detected : w->platform, "?");
    cell[10] = s_or(w->labels, "-");
}

static const char *const s_heads[11] = { "worker", NULL,     "host",   "CPU",  "cores", "memory",
                                          "kernel", "distribution", "disk", "detected", "labels" };

static bool s_shown(const struct rworker *w) { return strcmp(w->status, "absent") != 0; }

void report_systems_print(const report_t *r, FILE *out)
{
    fprintf(out, "\nsystems (the host behind each worker):\n");
    for (size_t i = 0; i < r->nworkers; i++) {
        const struct rworker *w = &r->workers[i];
        if (!s_shown(w))
            continue;
        const char *c[11];
        char cores[24], mem[32];
        s_cells(r, w, c, cores, sizeof cores, mem, sizeof mem);
        fprintf(out, "  %s (%s %s): host %s, %s x %s, %s, %s, %s, disk %s, detected %s, labels %s\n",
                c[0], report_by(r), c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10]);
    }
}

/* The shown workers, one row each (Markdown and HTML; the terminal lists them). */
static struct rtable *s_table(const report_t *r)
{
    struct rcol cols[11];
    for (size_t k = 0; k < 11; k++)
        cols[k] = (struct rcol){ .head = s_heads[k] ? s_heads[k] : report_by(r), .right = k == 4 };
    struct rtable *t = rtable_new(cols, 11, false);
    for (size_t i = 0; t && i < r->nworkers; i++) {
        if (!s_shown(&r->workers[i]))
            continue;
        const char *c[11];
        char cores[24], mem[32];
        s_cells(r, &r->workers[i], c, cores, sizeof cores, mem, sizeof mem);
        rtable_row(t, NULL);
        for (size_t k = 0; k < 11; k++)
            rtable_cell(t, c[k], NULL, false);
    }
    return t;
}

void report_systems_markdown(const report_t *r, FILE *out)
{
    fprintf(out, "## Systems\n\n");
    report_table_out(s_table(r), RFMT_MD, out);
    fputc('\n', out);
}

void report_systems_html(const report_t *r, FILE *out)
{
    fputs("<h2 id=\"systems\">Systems</h2>\n", out);
    report_table_out(s_table(r), RFMT_HTML, out);
}
