/* report_cond.c — the conditions each platform of a run ran under, shown
 * above the results: from the platforms table (schema 5: CPUs, memory limit,
 * disk, network, what was not enforced) for launched platforms, from the
 * workers' host facts for workers that joined by themselves.  A comparison
 * is only fair under equal conditions, so unequal CPUs or memory between the
 * platforms compared is a warning that names them. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "store/export.h"
#include "store/report_query.h"
#include "report.h"
#include "report_table.h"

static char *s_dupn(const char *s)
{
    return s ? strdup(s) : NULL;
}

void report_bytes(int64_t bytes, char *buf, size_t len)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) {
        v /= 1024;
        u++;
    }
    if (v == (double)(int64_t)v)
        snprintf(buf, len, "%" PRId64 " %s", (int64_t)v, unit[u]);
    else
        snprintf(buf, len, "%.1f %s", v, unit[u]);
}

static struct rcond *s_cond(report_t *r, const struct rworker *w)
{
    for (size_t i = 0; i < r->nconds; i++)
        if (strcmp(r->conds[i].platform, w->label) == 0)
            return &r->conds[i];
    struct rcond *c = realloc(r->conds, (r->nconds + 1) * sizeof *c);
    if (!c)
        return NULL;
    r->conds = c;
    c = &r->conds[r->nconds++];
    memset(c, 0, sizeof *c);
    c->platform = strdup(w->label);
    c->kind = strdup(w->launched_as ? w->launched_as : w->platform);
    c->cpus = c->memory = -1;
    return c;
}

/* "a" + "b" -> "a,b", each once. */
static void s_add(char **list, const char *item)
{
    size_t n = strlen(item), len = *list ? strlen(*list) : 0;
    for (const char *p = *list; p && (p = strstr(p, item)) != NULL; p += n)
        if ((p == *list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return;
    char *d = realloc(*list, len + n + 2);
    if (!d)
        return;
    snprintf(d + len, n + 2, "%s%s", len ? "," : "", item);
    *list = d;
}

static void s_row_fill(const struct store_platform_row *row, void *arg)
{
    struct rcond *c = arg;
    c->row = true;
    c->recorded = row->recorded;
    if (row->kind) {
        free(c->kind);
        c->kind = strdup(row->kind);
    }
    c->cpus = row->cpus;
    c->cpu_list = s_dupn(row->cpu_list);
    /* NULL memory is no limit, once the row holds conditions at all */
    c->memory = row->memory >= 0 ? row->memory : c->recorded ? 0 : -1;
    c->disk = s_dupn(row->disk);
    c->network = s_dupn(row->network);
    c->unenforced = s_dupn(row->unenforced);
}

/* The platforms row of a launched platform, if the run has one. */
static int s_row(store_t *s, const report_t *r, struct rcond *c)
{
    return store_read_platform(s, r->run, c->platform, s_row_fill, c) < 0 ? -1 : 0;
}

struct not_run {
    char buf[2048];
    size_t off;
};

static void s_not_run_row(const struct store_not_run_row *row, void *arg)
{
    struct not_run *nr = arg;
    if (nr->off < sizeof nr->buf)
        nr->off += (size_t)snprintf(nr->buf + nr->off, sizeof nr->buf - nr->off,
                                    "%s%s (%s%s%s)", nr->off ? "; " : "", row->name, row->status,
                                    *row->detail ? ": " : "", row->detail);
}

/* Platforms `--platforms` asked for that never ran: "qemu (skipped: why)". */
static int s_not_run(store_t *s, report_t *r)
{
    struct not_run nr = { "", 0 };
    if (store_read_not_run(s, r->run, s_not_run_row, &nr) < 0)
        return -1;
    if (nr.off)
        r->not_run = strdup(nr.buf);
    return 0;
}

static bool s_in_results(const report_t *r, const char *platform)
{
    for (size_t i = 0; i < r->nphases; i++)
        for (size_t g = 0; g < r->phases[i].ngroups; g++)
            if (strcmp(r->phases[i].groups[g].platform, platform) == 0)
                return true;
    return false;
}

/* "native 2, docker 1" when the known values of the platforms compared are
 * not all equal, else 0: memory in bytes (0: no limit) among platforms of
 * the same source (rows: 1 platforms rows, 0 host facts), or CPUs among all
 * (rows -1: a joined worker can use its host's cores). */
static size_t s_unequal(const report_t *r, bool memory, int rows, char *buf, size_t len)
{
    int64_t first = -1;
    bool differ = false;
    size_t off = 0, n = 0;
    for (size_t i = 0; i < r->nconds; i++) {
        const struct rcond *c = &r->conds[i];
        int64_t v = memory ? c->memory : c->cpus;
        if (v < 0 || (rows >= 0 && c->row != (rows == 1)) || !s_in_results(r, c->platform))
            continue;
        differ |= first >= 0 && v != first;
        first = first < 0 ? v : first;
        char val[48];
        if (memory && v == 0)
            snprintf(val, sizeof val, "no limit");
        else if (memory)
            report_bytes(v, val, sizeof val);
        else
            snprintf(val, sizeof val, "%" PRId64 "%s", v,
                     c->row || !r->conds_rows ? "" : " (host)");
        if (off < len)
            off += (size_t)snprintf(buf + off, len - off, "%s%s %s", n++ ? ", " : "",
                                    c->platform, val);
    }
    return differ ? off : 0;
}

static void s_warning(report_t *r)
{
    static const struct {
        bool memory;
        int rows;
        const char *what;
    } checks[] = {
        { false, -1, NULL }, /* "CPU counts" or "host cores" */
        { true, 1, "memory limits" },
        { true, 0, "host memory" },
    };
    char w[2048], a[900];
    size_t off = 0;
    for (size_t k = 0; k < sizeof checks / sizeof checks[0]; k++) {
        if (!s_unequal(r, checks[k].memory, checks[k].rows, a, sizeof a) || off >= sizeof w)
            continue;
        const char *what = checks[k].what ? checks[k].what
                           : r->conds_rows ? "CPU counts"
                                           : "host cores";
        off += (size_t)snprintf(w + off, sizeof w - off, "%s%s differ: %s", off ? "; " : "",
                                what, a);
    }
    if (off)
        r->cond_warning = strdup(w);
}

static int s_cond_cmp(const void *a, const void *b)
{
    const struct rcond *x = a, *y = b;
    int c = export_platform_cmp(x->kind, y->kind);
    return c ? c : export_platform_cmp(x->platform, y->platform);
}

int report_load_conditions(store_t *s, report_t *r)
{
    for (size_t i = 0; i < r->nworkers; i++) {
        const struct rworker *w = &r->workers[i];
        struct rcond *c = s_cond(r, w);
        if (!c)
            return -1;
        s_add(&c->detected, w->platform);
        s_add(&c->workers, w->name);
        if (strcmp(w->platform, c->kind) != 0)
            c->mismatch = true;
        if (!c->cpu_model) {
            c->cpu_model = strdup(w->cpu_model);
            c->kernel = strdup(w->kernel);
            c->cpus = w->cores > 0 ? w->cores : -1;
            c->memory = w->mem_bytes > 0 ? w->mem_bytes : -1;
        }
        if (w->launched_as && !c->row) {
            c->cpus = c->memory = -1;
            if (s_row(s, r, c) != 0)
                return -1;
            r->conds_rows |= c->row;
        }
    }
    if (r->nconds > 1)
        qsort(r->conds, r->nconds, sizeof *r->conds, s_cond_cmp);
    if (s_not_run(s, r) != 0)
        return -1;
    s_warning(r);
    return 0;
}

void report_conditions_free(report_t *r)
{
    for (size_t i = 0; i < r->nconds; i++) {
        struct rcond *c = &r->conds[i];
        free(c->platform);
        free(c->kind);
        free(c->detected);
        free(c->cpu_list);
        free(c->disk);
        free(c->network);
        free(c->unenforced);
        free(c->workers);
        free(c->cpu_model);
        free(c->kernel);
    }
    free(r->conds);
    free(r->cond_warning);
    free(r->not_run);
}

/* The cells of one conditions row; unknown values read as `unknown`. */
struct condcells {
    char detected[256], cpus[128], memory[64];
    const char *disk, *network, *unenforced;
};

static void s_cells(const struct rcond *c, const char *unknown, struct condcells *cc)
{
    snprintf(cc->detected, sizeof cc->detected, "%s%s", c->detected ? c->detected : unknown,
             c->mismatch ? " MISMATCH" : "");
    const char *host = c->row ? "" : " (host)";
    if (c->cpus < 0)
        snprintf(cc->cpus, sizeof cc->cpus, "%s", unknown);
    else if (c->cpu_list)
        snprintf(cc->cpus, sizeof cc->cpus, "%" PRId64 " (%s)", c->cpus, c->cpu_list);
    else
        snprintf(cc->cpus, sizeof cc->cpus, "%" PRId64 "%s", c->cpus, host);
    if (c->memory < 0)
        snprintf(cc->memory, sizeof cc->memory, "%s", unknown);
    else if (c->memory == 0)
        snprintf(cc->memory, sizeof cc->memory, "no limit");
    else {
        report_bytes(c->memory, cc->memory, sizeof cc->memory);
        size_t n = strlen(cc->memory);
        snprintf(cc->memory + n, sizeof cc->memory - n, "%s", host);
    }
    cc->disk = c->disk ? c->disk : unknown;
    cc->network = c->network ? c->network : unknown;
    cc->unenforced = c->unenforced ? c->unenforced : c->recorded ? "nothing" : unknown;
}

static const char *s_cond_note =
    "platform: what a worker was launched as; detected: the worker's own detection, "
    "MISMATCH when it is not that kind (its results stay under the platform it was launched as)";

static const struct rcol s_host_cols[] = {
    { "platform", NULL, NULL, -10, 0, false, false },
    { "workers", NULL, NULL, -16, 0, false, false },
    { "cores", NULL, NULL, 6, 0, true, false },
    { "memory", NULL, NULL, 10, 0, true, false },
    { "CPU", NULL, NULL, -30, 1, false, false },
    { "kernel", NULL, NULL, 0, 0, false, false },
};

/* Workers that joined by themselves: their hosts' facts. */
static struct rtable *s_hosts(const report_t *r, rfmt_t fmt)
{
    const char *unknown = fmt == RFMT_TEXT ? "unknown" : "—";
    struct rtable *t = rtable_new(s_host_cols, sizeof s_host_cols / sizeof s_host_cols[0], true);
    for (size_t i = 0; t && i < r->nconds; i++) {
        const struct rcond *c = &r->conds[i];
        char mem[32];
        snprintf(mem, sizeof mem, "%s", unknown);
        if (c->memory > 0)
            report_bytes(c->memory, mem, sizeof mem);
        rtable_row(t, NULL);
        rtable_cell(t, c->platform, NULL, false);
        rtable_cell(t, c->workers, NULL, false);
        if (c->cpus >= 0)
            rtable_cellf(t, "%" PRId64, c->cpus);
        else
            rtable_cell(t, unknown, NULL, false);
        rtable_cell(t, mem, NULL, false);
        rtable_cell(t, c->cpu_model, NULL, false);
        rtable_cell(t, c->kernel, NULL, false);
    }
    return t;
}

static const struct rcol s_cond_cols[] = {
    { "platform", NULL, NULL, -10, 0, false, false },
    { "kind", NULL, NULL, -8, 0, false, false },
    { "detected", NULL, NULL, -18, 0, false, false },
    { "cpus", NULL, NULL, -10, 0, true, false },
    { "memory", NULL, NULL, -10, 0, true, false },
    { "disk", NULL, NULL, -26, 0, false, false },
    { "network", NULL, NULL, -14, 0, false, false },
    { "not enforced", NULL, NULL, 0, 0, false, false },
};

/* Launched platforms: the conditions of their platforms rows. */
static struct rtable *s_conds(const report_t *r, rfmt_t fmt)
{
    struct rtable *t = rtable_new(s_cond_cols, sizeof s_cond_cols / sizeof s_cond_cols[0], true);
    for (size_t i = 0; t && i < r->nconds; i++) {
        const struct rcond *c = &r->conds[i];
        struct condcells cc;
        s_cells(c, fmt == RFMT_TEXT ? "unknown" : "—", &cc);
        rtable_row(t, NULL);
        rtable_cell(t, c->platform, NULL, false);
        rtable_cell(t, c->kind, NULL, false);
        rtable_cell(t, cc.detected, c->mismatch ? "mismatch" : NULL, c->mismatch);
        rtable_cell(t, cc.cpus, NULL, false);
        rtable_cell(t, cc.memory, NULL, false);
        rtable_cell(t, cc.disk, NULL, false);
        rtable_cell(t, cc.network, NULL, false);
        rtable_cell(t, cc.unenforced, c->unenforced ? "refuted" : NULL, false);
    }
    return t;
}

/* The section's heading and introduction, per format. */
static void s_intro(const report_t *r, rfmt_t fmt, FILE *out)
{
    if (!r->conds_rows) {
        fputs(fmt == RFMT_TEXT ? "\nhosts (workers that joined by themselves: no limits "
                                 "applied; their host's facts):\n"
              : fmt == RFMT_MD ? "## Hosts\n\nWorkers that joined by themselves: no limits "
                                 "applied, the facts of their host.\n\n"
                               : "<h2 id=\"conditions\">Hosts</h2>\n<p>Workers that joined by "
                                 "themselves: no limits applied, the facts of their host.</p>\n",
              out);
    } else if (fmt == RFMT_TEXT) {
        fprintf(out, "\nconditions (%s):\n", s_cond_note);
    } else if (fmt == RFMT_MD) {
        fprintf(out, "## Conditions\n\nWhat each platform ran under. P%s.\n\n", s_cond_note + 1);
    } else {
        fputs("<h2 id=\"conditions\">Conditions</h2>\n<p>What each platform ran under. P", out);
        report_esc_html(out, s_cond_note + 1);
        fputs(".</p>\n", out);
    }
}

/* A sentence under the table: the terminal's indented line, Markdown's
 * paragraph (or quote), HTML's paragraph. */
static void s_line(rfmt_t fmt, FILE *out, const char *md_pre, const char *html_pre,
                   const char *text_pre, const char *body)
{
    if (fmt == RFMT_TEXT) {
        fprintf(out, "  %s%s\n", text_pre, body);
        return;
    }
    fputs(fmt == RFMT_MD ? md_pre : html_pre, out);
    if (fmt == RFMT_MD)
        report_esc_md(out, body);
    else
        report_esc_html(out, body);
    fputs(fmt == RFMT_MD ? ".\n" : ".</p>\n", out);
}

static void s_section(const report_t *r, rfmt_t fmt, FILE *out)
{
    if (!r->nconds)
        return;
    s_intro(r, fmt, out);
    report_table_out(r->conds_rows ? s_conds(r, fmt) : s_hosts(r, fmt), fmt, out);
    if (r->not_run)
        s_line(fmt, out, "\nNot run: ", "<p>Not run: ", "not run: ", r->not_run);
    if (r->cond_warning)
        s_line(fmt, out,
               "\n> **Warning: unequal conditions**, the ratios mix the platforms' cost with "
               "the resources they were given: ",
               "<p class=\"warning\"><b>Warning: unequal conditions</b>, the ratios mix the "
               "platforms' cost with the resources they were given: ",
               "WARNING: unequal conditions, the ratios mix the platforms' cost with the "
               "resources they were given: ",
               r->cond_warning);
    if (fmt == RFMT_MD)
        fputc('\n', out);
}

void report_conditions_print(const report_t *r, FILE *out) { s_section(r, RFMT_TEXT, out); }
void report_conditions_markdown(const report_t *r, FILE *out) { s_section(r, RFMT_MD, out); }
void report_conditions_html(const report_t *r, FILE *out) { s_section(r, RFMT_HTML, out); }
