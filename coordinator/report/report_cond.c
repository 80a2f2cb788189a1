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

void report_conditions_print(const report_t *r, FILE *out)
{
    if (!r->nconds)
        return;
    if (!r->conds_rows) {
        fprintf(out, "\nhosts (workers that joined by themselves: no limits applied; their "
                     "host's facts):\n  %-10s %-16s %6s %10s  %-30s %s\n",
                "platform", "workers", "cores", "memory", "CPU", "kernel");
        for (size_t i = 0; i < r->nconds; i++) {
            const struct rcond *c = &r->conds[i];
            char cores[32] = "unknown", mem[32] = "unknown";
            if (c->cpus >= 0)
                snprintf(cores, sizeof cores, "%" PRId64, c->cpus);
            if (c->memory > 0)
                report_bytes(c->memory, mem, sizeof mem);
            fprintf(out, "  %-10s %-16s %6s %10s  %-30s %s\n", c->platform, c->workers, cores,
                    mem, c->cpu_model, c->kernel);
        }
    } else {
        fprintf(out, "\nconditions (%s):\n  %-10s %-8s %-18s %-10s %-10s %-26s %-14s %s\n",
                s_cond_note, "platform", "kind", "detected", "cpus", "memory", "disk", "network",
                "not enforced");
        for (size_t i = 0; i < r->nconds; i++) {
            struct condcells cc;
            s_cells(&r->conds[i], "unknown", &cc);
            fprintf(out, "  %-10s %-8s %-18s %-10s %-10s %-26s %-14s %s\n", r->conds[i].platform,
                    r->conds[i].kind, cc.detected, cc.cpus, cc.memory, cc.disk, cc.network,
                    cc.unenforced);
        }
    }
    if (r->not_run)
        fprintf(out, "  not run: %s\n", r->not_run);
    if (r->cond_warning)
        fprintf(out, "  WARNING: unequal conditions, the ratios mix the platforms' cost with "
                     "the resources they were given: %s\n",
                r->cond_warning);
}

void report_conditions_markdown(const report_t *r, FILE *out)
{
    if (!r->nconds)
        return;
    if (!r->conds_rows) {
        fprintf(out, "## Hosts\n\nWorkers that joined by themselves: no limits applied, the "
                     "facts of their host.\n\n| platform | workers | cores | memory | CPU | "
                     "kernel |\n| --- | --- | ---: | ---: | --- | --- |\n");
        for (size_t i = 0; i < r->nconds; i++) {
            const struct rcond *c = &r->conds[i];
            char mem[32] = "—";
            if (c->memory > 0)
                report_bytes(c->memory, mem, sizeof mem);
            fputs("| ", out);
            report_esc_md(out, c->platform);
            fputs(" | ", out);
            report_esc_md(out, c->workers);
            if (c->cpus >= 0)
                fprintf(out, " | %" PRId64 " | %s | ", c->cpus, mem);
            else
                fprintf(out, " | — | %s | ", mem);
            report_esc_md(out, c->cpu_model);
            fputs(" | ", out);
            report_esc_md(out, c->kernel);
            fputs(" |\n", out);
        }
    } else {
        fprintf(out, "## Conditions\n\nWhat each platform ran under. %c%s.\n\n| platform | kind "
                     "| detected | cpus | memory | disk | network | not enforced |\n| --- | --- "
                     "| --- | ---: | ---: | --- | --- | --- |\n",
                'P', s_cond_note + 1);
        for (size_t i = 0; i < r->nconds; i++) {
            const struct rcond *c = &r->conds[i];
            struct condcells cc;
            s_cells(c, "—", &cc);
            const char *cell[] = { c->platform, c->kind,     cc.detected,   cc.cpus,
                                   cc.memory,   cc.disk,     cc.network,    cc.unenforced };
            for (size_t k = 0; k < sizeof cell / sizeof cell[0]; k++) {
                fputs(k ? " | " : "| ", out);
                if (k == 2 && c->mismatch)
                    fputs("**", out);
                report_esc_md(out, cell[k]);
                if (k == 2 && c->mismatch)
                    fputs("**", out);
            }
            fputs(" |\n", out);
        }
    }
    if (r->not_run) {
        fputs("\nNot run: ", out);
        report_esc_md(out, r->not_run);
        fputs(".\n", out);
    }
    if (r->cond_warning) {
        fputs("\n> **Warning: unequal conditions**, the ratios mix the platforms' cost with the "
              "resources they were given: ",
              out);
        report_esc_md(out, r->cond_warning);
        fputs(".\n", out);
    }
    fputc('\n', out);
}

static void s_td(FILE *out, const char *cls, const char *s)
{
    fprintf(out, "<td class=\"%s\">", cls);
    report_esc_html(out, s);
    fputs("</td>", out);
}

void report_conditions_html(const report_t *r, FILE *out)
{
    if (!r->nconds)
        return;
    if (!r->conds_rows) {
        fputs("<h2 id=\"conditions\">Hosts</h2>\n<p>Workers that joined by themselves: no "
              "limits applied, the facts of their host.</p>\n<table><tr><th>platform</th>"
              "<th>workers</th><th>cores</th><th>memory</th><th>CPU</th><th>kernel</th></tr>\n",
              out);
        for (size_t i = 0; i < r->nconds; i++) {
            const struct rcond *c = &r->conds[i];
            char cores[32] = "—", mem[32] = "—";
            if (c->cpus >= 0)
                snprintf(cores, sizeof cores, "%" PRId64, c->cpus);
            if (c->memory > 0)
                report_bytes(c->memory, mem, sizeof mem);
            fputs("<tr>", out);
            s_td(out, "l", c->platform);
            s_td(out, "l", c->workers);
            s_td(out, "", cores);
            s_td(out, "", mem);
            s_td(out, "l", c->cpu_model);
            s_td(out, "l", c->kernel);
            fputs("</tr>\n", out);
        }
    } else {
        fputs("<h2 id=\"conditions\">Conditions</h2>\n<p>What each platform ran under. P", out);
        report_esc_html(out, s_cond_note + 1);
        fputs(".</p>\n<table><tr><th>platform</th><th>kind</th><th>detected</th><th>cpus</th>"
              "<th>memory</th><th>disk</th><th>network</th><th>not enforced</th></tr>\n",
              out);
        for (size_t i = 0; i < r->nconds; i++) {
            const struct rcond *c = &r->conds[i];
            struct condcells cc;
            s_cells(c, "—", &cc);
            fputs("<tr>", out);
            s_td(out, "l", c->platform);
            s_td(out, "l", c->kind);
            s_td(out, c->mismatch ? "l mismatch" : "l", cc.detected);
            s_td(out, "", cc.cpus);
            s_td(out, "", cc.memory);
            s_td(out, "l", cc.disk);
            s_td(out, "l", cc.network);
            s_td(out, c->unenforced ? "l refuted" : "l", cc.unenforced);
            fputs("</tr>\n", out);
        }
    }
    fputs("</table>\n", out);
    if (r->not_run) {
        fputs("<p>Not run: ", out);
        report_esc_html(out, r->not_run);
        fputs(".</p>\n", out);
    }
    if (r->cond_warning) {
        fputs("<p class=\"warning\"><b>Warning: unequal conditions</b>, the ratios mix the "
              "platforms' cost with the resources they were given: ",
              out);
        report_esc_html(out, r->cond_warning);
        fputs(".</p>\n", out);
    }
}
