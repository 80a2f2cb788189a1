/* cmd_report.c — `lockstep report`: the statistics of a stored run on
 * stdout, and with --out the whole report in a directory (HTML, Markdown,
 * gnuplot box plots, long and wide CSV).  The work is in report_*.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "store/export.h"
#include "report/report.h"
#include "store/store.h"

static const char *s_usage =
    "usage: lockstep report [--db PATH] [--run ID] [--out DIR] [--by DIM]\n"
    "                       [--baseline GROUP] [--expectation EXPR]...\n"
    "\n"
    "Summarise a stored run: the conditions each platform ran under (CPUs, memory,\n"
    "disk, network; a warning when they differ); per phase and platform (what a\n"
    "worker was launched as, its own detection beside it) the headline metric's n,\n"
    "mean, standard deviation, median, min, max, coefficient of variation, 95%\n"
    "confidence interval of the mean (Student t) and the ratio of medians to the\n"
    "baseline platform; built-ins against their reference tools when the run\n"
    "calibrated them (OFF: a pair outside ±5%); the experiment's expectations,\n"
    "confirmed or refuted with the numbers; local vs public throughput when the run\n"
    "measured both; start skew and lost workers.\n"
    "\n"
    "  -d, --db PATH           results database (default lockstep.db)\n"
    "  -r, --run ID            the run (default: the latest)\n"
    "  -o, --out DIR           also write the report there (created if missing):\n"
    "                          report.html (self-contained), report.md, results.csv\n"
    "                          (long format), results-wide.csv (the course's\n"
    "                          platform,time,cpu,mem,diskRand,diskSeq,fork,uplink),\n"
    "                          plot-PHASE.svg and .png (gnuplot), plots.gp\n"
    "      --by DIM            group results by platform (default), worker, host or\n"
    "                          label:KEY (--label KEY=VALUE of lockstep-worker); the\n"
    "                          baseline and expectations then name those groups\n"
    "  -b, --baseline PLATFORM ratios are medians over this platform's (default native):\n"
    "                          an entry's name, or a kind when one platform has it\n"
    "  -x, --expectation EXPR  check this expectation too, e.g. 'cpu: qemu < 0.5 * native'\n"
    "                          (repeatable; the syntax is in docs/experiment-format.md)\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status: 0 written (whatever the verdicts), 2 invalid arguments or no such\n"
    "run, 1 the database or a file could not be read or written.\n";

/* Write one file of the report with fn; 0 or -1 after saying why. */
static int s_write(const char *dir, const char *name, const report_t *r, store_t *s,
                   int (*fn)(const report_t *r, store_t *s, FILE *out, char *err, size_t errlen))
{
    char path[4096], err[4200] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "lockstep report: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = fn(r, s, f, err, sizeof err);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, sizeof err, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc)
        fprintf(stderr, "lockstep report: %s\n", err[0] ? err : path);
    return rc;
}

static int s_html(const report_t *r, store_t *s, FILE *out, char *err, size_t errlen)
{
    (void)s, (void)err, (void)errlen;
    report_html(r, out);
    return ferror(out) ? -1 : 0;
}

static int s_md_plots(const report_t *r, store_t *s, FILE *out, char *err, size_t errlen)
{
    (void)s, (void)err, (void)errlen;
    report_markdown(r, out, true);
    return ferror(out) ? -1 : 0;
}

static int s_md_bare(const report_t *r, store_t *s, FILE *out, char *err, size_t errlen)
{
    (void)s, (void)err, (void)errlen;
    report_markdown(r, out, false);
    return ferror(out) ? -1 : 0;
}

static int s_long(const report_t *r, store_t *s, FILE *out, char *err, size_t errlen)
{
    return store_export(s, r->run, EXPORT_CSV, out, err, errlen);
}

static int s_wide(const report_t *r, store_t *s, FILE *out, char *err, size_t errlen)
{
    return store_export_wide(s, r->run, out, err, errlen);
}

static int s_mkdir(const char *dir)
{
    struct stat sb;
    if (mkdir(dir, 0755) == 0 || (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)))
        return 0;
    fprintf(stderr, "lockstep report: %s: %s\n", dir,
            errno == EEXIST ? "exists and is not a directory" : strerror(errno));
    return -1;
}

/* --out DIR: the plots, then every file of the report; the exit status. */
static int s_write_dir(const report_t *r, store_t *s, const char *dir)
{
    char err[1024];
    int drawn = -1, rc = EXIT_OK;
    if (s_mkdir(dir) != 0) {
        rc = EXIT_FAIL;
    } else {
        drawn = report_plots(r, dir, err, sizeof err);
        if (drawn < 0)
            fprintf(stderr, "lockstep report: %s\n", err);
        else if (drawn == 1)
            fprintf(stderr, "lockstep report: gnuplot not found: no SVG/PNG plots (install "
                            "gnuplot-nox; %s/plots.gp draws them)\n",
                    dir);
        if (s_write(dir, "report.html", r, s, s_html) ||
            s_write(dir, "report.md", r, s, drawn == 0 ? s_md_plots : s_md_bare) ||
            s_write(dir, "results.csv", r, s, s_long) ||
            s_write(dir, "results-wide.csv", r, s, s_wide) || drawn < 0)
            rc = EXIT_FAIL;
    }
    if (rc == EXIT_OK)
        printf("\nwritten to %s: report.html, report.md, results.csv, results-wide.csv%s\n",
               dir, drawn == 0   ? ", plot-*.svg, plot-*.png, plots.gp"
                    : drawn == 1 ? ", plots.gp"
                                 : " (no values to plot)");
    return rc;
}

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },       { "run", required_argument, NULL, 'r' },
        { "out", required_argument, NULL, 'o' },      { "baseline", required_argument, NULL, 'b' },
        { "expectation", required_argument, NULL, 'x' }, { "help", no_argument, NULL, 'h' },
        { "by", required_argument, NULL, 'B' },
        { NULL, 0, NULL, 0 },
    };
    const char *db = "lockstep.db", *dir = NULL, *baseline = "native", *by = "platform";
    const char **extra = calloc((size_t)argc + 1, sizeof *extra);
    size_t nextra = 0;
    int64_t run = 0;
    int ch, rc = EXIT_OK;
    char *end;
    if (!extra)
        return EXIT_FAIL;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:r:o:b:x:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            db = optarg;
            break;
        case 'r':
            run = strtoll(optarg, &end, 10);
            if (*end || run <= 0) {
                fprintf(stderr, "lockstep report: --run '%s': expected a run id\n", optarg);
                free(extra);
                return EXIT_INVALID;
            }
            break;
        case 'o':
            dir = optarg;
            break;
        case 'b':
            baseline = optarg;
            break;
        case 'x':
            extra[nextra++] = optarg;
            break;
        case 'B':
            by = optarg;
            break;
        case 'h':
            fputs(s_usage, stdout);
            free(extra);
            return EXIT_OK;
        default:
            fputs("lockstep report: see 'lockstep report --help'\n", stderr);
            free(extra);
            return EXIT_INVALID;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "lockstep report: unexpected argument '%s'\n", argv[optind]);
        free(extra);
        return EXIT_INVALID;
    }
    if (access(db, R_OK) != 0) {
        fprintf(stderr, "lockstep report: %s: no such database (give --db PATH)\n", db);
        free(extra);
        return EXIT_INVALID;
    }
    char err[1024];
    bool foreign;
    store_t *s = store_open_readonly(db, err, sizeof err, &foreign);
    if (!s) {
        fprintf(stderr, "lockstep report: %s\n", err);
        free(extra);
        return foreign ? EXIT_INVALID : EXIT_FAIL;
    }
    if (store_group_by(s, by, err, sizeof err) != 0) {
        fprintf(stderr, "lockstep report: %s\n", err);
        store_destroy(&s);
        free(extra);
        return strncmp(err, "--by", 4) == 0 ? EXIT_INVALID : EXIT_FAIL;
    }
    report_t *r = report_load(s, run, baseline, err, sizeof err);
    if (!r) {
        fprintf(stderr, "lockstep report: %s\n", err);
        store_destroy(&s);
        free(extra);
        return strstr(err, "no run") || strstr(err, "holds no run") ? EXIT_INVALID : EXIT_FAIL;
    }
    r->by = by;
    report_expectations(r, extra, nextra);
    report_print(r, stdout);
    if (dir)
        rc = s_write_dir(r, s, dir);
    report_destroy(&r);
    store_destroy(&s);
    free(extra);
    return rc;
}
