/* cmd_keygen.c — `lockstep keygen DIR --workers NAMES`: the CURVE
 * certificates of a deployment (curve.h has the layout). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "curve.h"

static const char *s_usage =
    "usage: lockstep keygen DIR [--workers NAME[,NAME...]]\n"
    "\n"
    "Make the CURVE certificates that let only these workers in:\n"
    "  DIR/coordinator.cert, .cert_secret   the coordinator's key pair (made once;\n"
    "                                       kept when DIR already has one)\n"
    "  DIR/workers/NAME.cert, .cert_secret  one key pair per worker\n"
    "  DIR/allowed/NAME.cert                the public keys the coordinator admits\n"
    "\n"
    "Then: lockstep run FILE --keys DIR --bind tcp://ADDR:PORT, and on each worker\n"
    "lockstep-worker --server-cert coordinator.cert --cert NAME.cert_secret ...\n"
    "(copy only those two files to the worker's host; secret files are 0600).\n"
    "An existing worker's certificate is never overwritten.  Without --workers,\n"
    "only the coordinator's key pair is made (if DIR has none): add workers later.\n"
    "\n"
    "  -w, --workers NAMES   comma-separated worker names\n"
    "  -h, --help            this help\n";

int cmd_keygen(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "workers", required_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char *list = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "w:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'w':
            list = optarg;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return EXIT_OK;
        default:
            fputs("lockstep keygen: see 'lockstep keygen --help'\n", stderr);
            return EXIT_INVALID;
        }
    }
    if (optind != argc - 1 || (list && !*list)) {
        fprintf(stderr, "lockstep keygen: %s\n%s",
                optind != argc - 1 ? "give one directory" : "--workers: no name given", s_usage);
        return EXIT_INVALID;
    }
    char *copy = strdup(list ? list : ""), *names[1024];
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == sizeof names / sizeof names[0]) {
            fprintf(stderr, "lockstep keygen: more than %zu workers at once\n", n);
            free(copy);
            return EXIT_INVALID;
        }
        names[n++] = t;
    }
    char err[1024];
    int rc = curve_keygen(argv[optind], names, n, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "lockstep keygen: %s\n", err);
    else
        printf("%s: coordinator key and %zu worker key(s); allowed keys in %s/allowed\n",
               argv[optind], n, argv[optind]);
    free(copy);
    return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
