/* main.c — the lockstep command line: parse the subcommand and dispatch
 * (git-style table).  Everything testable lives in the cmd_* modules. */
#include <archive.h>
#include <jansson.h>
#include <msgpack.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>
#include <czmq.h>
#include <zmq.h>

#include "bench.h"
#include "cmd.h"
#include "log.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} s_cmds[] = {
    { "run", cmd_run, "run an experiment with its workers and store the results" },
    { "validate", cmd_validate, "check an experiment file; problems as FILE:LINE:COLUMN" },
    { "report", cmd_report, "statistics, plots and verdicts of a stored run (text, HTML)" },
    { "export", cmd_export, "write stored results as CSV (long or course-wide) or JSON" },
    { "list", cmd_list, "list the benchmarks and their options" },
    { "keygen", cmd_keygen, "make CURVE certificates: only these workers get in" },
    { "image", cmd_image, "write the docker context or VM initramfs the platforms run the worker in" },
};

static void s_usage(FILE *out)
{
    fputs("usage: lockstep COMMAND [options]   (lockstep COMMAND --help for more)\n\n", out);
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++)
        fprintf(out, "  %-10s %s\n", s_cmds[i].name, s_cmds[i].help);
    fputs("\n  --version  versions of lockstep and its libraries\n"
          "  --help     this help\n\n"
          "Start here: lockstep run experiments/smoke.yaml --local 3\n",
          out);
}

static void s_version(void)
{
    int maj, min, pat;
    zmq_version(&maj, &min, &pat);
    printf("lockstep %s\n", LOCKSTEP_VERSION);
    printf("  libzmq     %d.%d.%d\n", maj, min, pat);
    printf("  CZMQ       %d.%d.%d\n", CZMQ_VERSION_MAJOR, CZMQ_VERSION_MINOR, CZMQ_VERSION_PATCH);
    printf("  msgpack-c  %s\n", msgpack_version());
    /* lockstep links the benchmarks' descriptors only (bench/list.h): the
     * worker runs them and links libiperf, lockstep knows iperf's options. */
    printf("  libiperf   not linked (%s)\n", bench_find("iperf")
                                                ? "lockstep-worker runs iperf with it"
                                                : "no iperf benchmark");
    printf("  SQLite     %s\n", sqlite3_libversion());
    printf("  libyaml    %s\n", yaml_get_version_string());
    printf("  jansson    %s\n", jansson_version_str());
    int av = archive_version_number(); /* 3006002: 3.6.2 */
    printf("  libarchive %d.%d.%d\n", av / 1000000, av / 1000 % 1000, av % 1000);
    printf("benchmarks:");
    for (const struct bench_ops *const *b = bench_all(); *b; b++)
        printf(" %s", (*b)->name);
    printf("\n");
}

int main(int argc, char **argv)
{
    log_init("lockstep", LOGL_INFO);
    if (argc < 2) {
        s_usage(stderr);
        return EXIT_INVALID;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        s_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        s_version();
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++)
        if (strcmp(argv[1], s_cmds[i].name) == 0)
            return s_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lockstep: unknown command '%s'\n\n", argv[1]);
    s_usage(stderr);
    return EXIT_INVALID;
}
