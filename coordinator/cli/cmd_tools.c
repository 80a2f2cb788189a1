/* cmd_tools.c — the small subcommands: validate an experiment, export
 * stored results, list the benchmarks.  No sockets here. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cmd.h"
#include "model/experiment.h"
#include "store/export.h"
#include "store/export_details.h"
#include "store/store.h"

static int s_help_or_bad(int ch, const char *usage, const char *cmd)
{
    if (ch == 'h') {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    fprintf(stderr, "lockstep %s: see 'lockstep %s --help'\n", cmd, cmd);
    return EXIT_INVALID;
}

static const struct option s_help_only[] = { { "help", no_argument, NULL, 'h' },
                                             { NULL, 0, NULL, 0 } };

int cmd_validate(int argc, char **argv)
{
    static const char *usage =
        "usage: lockstep validate FILE...\n\n"
        "Check experiment files.  Every problem is printed as FILE:LINE:COLUMN: message.\n"
        "Exit status: 0 when every file is valid, 2 when one is not.\n";
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", s_help_only, NULL)) != -1)
        return s_help_or_bad(ch, usage, "validate");
    if (optind >= argc) {
        fprintf(stderr, "lockstep validate: missing experiment FILE\n%s", usage);
        return EXIT_INVALID;
    }
    int rc = EXIT_OK;
    for (int i = optind; i < argc; i++) {
        struct experiment *exp = NULL;
        int n = experiment_load(argv[i], &exp, stderr);
        if (n != 0) {
            rc = EXIT_INVALID;
            continue;
        }
        int reps = 0;
        for (size_t p = 0; p < exp->nphases; p++)
            reps += exp->phases[p].reps;
        printf("%s: valid: experiment %s, %zu phases, %d repetitions in all\n", argv[i], exp->name,
               exp->nphases, reps);
        experiment_destroy(&exp);
    }
    return rc;
}

/* lockstep export --help */
static const char *s_export_usage =
    "usage: lockstep export [--db PATH] [--run ID] [--format csv|json|wide] [--details]\n"
    "                       [--out FILE]\n\n"
    "Write stored results in the long format, one row per (run, phase, repetition,\n"
    "worker, metric); CSV columns: run,phase,bench,rep,worker,platform,metric,unit,value,status\n"
    "'wide' is the course's CSV instead, one row per worker and repetition:\n"
    "platform,time,cpu,mem,diskRand,diskSeq,fork,uplink (the headline metric of the\n"
    "phase of each name, or of the only phase running that benchmark).\n"
    "--details writes what benchmarks reported beside their metrics (iperf's target,\n"
    "attempts, round trip, CPU use, congestion control, per-stream figures, the\n"
    "server's view, option values): CSV run,phase,bench,rep,worker,platform,key,value;\n"
    "JSON one object per result with its metrics and details nested.\n\n"
    "  -d, --db PATH      results database (default lockstep.db)\n"
    "  -r, --run ID       one run (default: the latest); 'all' for every run (not wide)\n"
    "  -f, --format FMT   csv (default), json or wide\n"
    "  -D, --details      result details instead of metrics (csv or json)\n"
    "  -o, --out FILE     write there instead of standard output\n"
    "      --by DIM       what the platform column holds: platform (default: what a\n"
    "                     worker was launched as, else what it declares), worker,\n"
    "                     host, or label:KEY (its --label KEY=VALUE)\n";

/* Which run --run ID names (-1: every run), or the latest; the exit status
 * of a bad or missing one after saying why. */
static int s_export_run(store_t *s, const char *db, const char *runarg, bool wide, int64_t *run_p)
{
    int64_t run;
    if (runarg && strcmp(runarg, "all") == 0) {
        if (wide) {
            fprintf(stderr, "lockstep export: --format wide takes one run, not 'all'\n");
            return EXIT_INVALID;
        }
        run = -1;
    } else if (runarg) {
        char *end;
        run = strtoll(runarg, &end, 10);
        if (*end || run <= 0) {
            fprintf(stderr, "lockstep export: --run '%s': expected a run id or 'all'\n", runarg);
            return EXIT_INVALID;
        }
        struct store_run_info ri = { 0 };
        int found = store_run_get(s, run, &ri);
        store_run_info_free(&ri);
        if (found != 0) {
            fprintf(stderr, "lockstep export: %s: %s run %" PRId64 " (the newest is %" PRId64
                    "; lockstep report --db %s shows it)\n", db,
                    found < 0 ? "cannot read" : "no", run, store_last_run(s), db);
            return found < 0 ? EXIT_FAIL : EXIT_INVALID;
        }
    } else {
        run = store_last_run(s);
        if (run == 0) {
            fprintf(stderr, "lockstep export: %s: holds no run yet\n", db);
            return EXIT_INVALID;
        }
    }
    *run_p = run;
    return EXIT_OK;
}

int cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },     { "run", required_argument, NULL, 'r' },
        { "format", required_argument, NULL, 'f' }, { "out", required_argument, NULL, 'o' },
        { "details", no_argument, NULL, 'D' },      { "help", no_argument, NULL, 'h' },
        { "by", required_argument, NULL, 'B' },
        { NULL, 0, NULL, 0 },
    };
    const char *db = "lockstep.db", *runarg = NULL, *out_path = NULL, *by = "platform";
    export_format_t fmt = EXPORT_CSV;
    bool wide = false, details = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "d:r:f:o:Dh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            db = optarg;
            break;
        case 'r':
            runarg = optarg;
            break;
        case 'D':
            details = true;
            break;
        case 'f':
            if (strcmp(optarg, "csv") == 0)
                fmt = EXPORT_CSV;
            else if (strcmp(optarg, "json") == 0)
                fmt = EXPORT_JSON;
            else if (strcmp(optarg, "wide") == 0)
                wide = true;
            else {
                fprintf(stderr, "lockstep export: --format '%s': expected csv, json or wide\n",
                        optarg);
                return EXIT_INVALID;
            }
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'B':
            by = optarg;
            break;
        default:
            return s_help_or_bad(ch, s_export_usage, "export");
        }
    }
    if (optind != argc) {
        fprintf(stderr, "lockstep export: unexpected argument '%s'\n", argv[optind]);
        return EXIT_INVALID;
    }
    if (details && wide) {
        fprintf(stderr, "lockstep export: --details is csv or json, not wide\n");
        return EXIT_INVALID;
    }
    if (access(db, R_OK) != 0) {
        fprintf(stderr, "lockstep export: %s: no such database (give --db PATH)\n", db);
        return EXIT_INVALID;
    }
    char err[1024];
    bool foreign;
    store_t *s = store_open_readonly(db, err, sizeof err, &foreign);
    if (!s) {
        fprintf(stderr, "lockstep export: %s\n", err);
        return foreign ? EXIT_INVALID : EXIT_FAIL;
    }
    if (store_group_by(s, by, err, sizeof err) != 0) {
        fprintf(stderr, "lockstep export: %s\n", err);
        store_destroy(&s);
        return strncmp(err, "--by", 4) == 0 ? EXIT_INVALID : EXIT_FAIL;
    }
    int64_t run = 0;
    int bad = s_export_run(s, db, runarg, wide, &run);
    if (bad != EXIT_OK) {
        store_destroy(&s);
        return bad;
    }
    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w"))) {
        perror(out_path);
        store_destroy(&s);
        return EXIT_FAIL;
    }
    int rc = wide      ? store_export_wide(s, run, out, err, sizeof err)
             : details ? store_export_details(s, run, fmt, out, err, sizeof err)
                       : store_export(s, run, fmt, out, err, sizeof err);
    if (rc)
        fprintf(stderr, "lockstep export: %s\n", err);
    if (out != stdout && fclose(out) != 0) {
        perror(out_path);
        rc = -1;
    }
    store_destroy(&s);
    return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_list(int argc, char **argv)
{
    static const char *usage = "usage: lockstep list [BENCH]\n\n"
                               "List the benchmarks, their headline metric and their options\n"
                               "with type, allowed values, default and help.\n";
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", s_help_only, NULL)) != -1)
        return s_help_or_bad(ch, usage, "list");
    const char *only = optind < argc ? argv[optind] : NULL;
    if (only && !bench_find(only)) {
        fprintf(stderr, "lockstep list: unknown benchmark '%s'\n", only);
        return EXIT_INVALID;
    }
    for (const struct bench_ops *const *b = bench_all(); *b; b++) {
        if (only && strcmp(only, (*b)->name) != 0)
            continue;
        printf("%s — %s\n  metric: %s (%s)\n", (*b)->name, (*b)->help, (*b)->metric, (*b)->unit);
        for (const struct opt_def *o = (*b)->options; o && o->name; o++) {
            char desc[256];
            opt_describe(o, desc, sizeof desc);
            printf("  %-12s %-28s default %-8s %s\n", o->name, desc, o->def ? o->def : "-",
                   o->help ? o->help : "");
        }
        printf("\n");
    }
    return EXIT_OK;
}
