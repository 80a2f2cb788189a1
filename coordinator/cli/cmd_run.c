/* cmd_run.c — `lockstep run`: load the experiment, open the database, bind,
 * optionally spawn local workers, admit, run the phases, and say where the
 * results went.  Exit 0 complete, 3 partial, 2 invalid input, 1 failure. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "run/endpoint.h"
#include "run/coord.h"
#include "model/experiment.h"
#include "fsutil.h"
#include "log.h"
#include "run/schedule.h"
#include "platform/platforms.h"
#include "run/progress.h"
#include "run/resume.h"
#include "run/spawn.h"
#include "store/store.h"

static volatile sig_atomic_t s_interrupted;
static void s_on_signal(int sig)
{
    (void)sig;
    s_interrupted = 1;
}

static const char *s_usage =
    "usage: lockstep run FILE [options]\n"
    "       lockstep run --resume RUN [options]\n"
    "\n"
    "Run the experiment in FILE: admit workers, run every phase and repetition\n"
    "with its schedule, store every result, print a summary.  When the database\n"
    "holds a run of the same experiment that was cut short (its coordinator\n"
    "died), that run is resumed instead: the repetitions it stored are not run\n"
    "again, its workers register again and re-send the results they spooled.\n"
    "\n"
    "  -b, --bind ENDPOINT   ROUTER endpoint tcp://ADDRESS:PORT (default\n"
    "                        tcp://127.0.0.1:5555; with --local, tcp://127.0.0.1:*\n"
    "                        picks a free port): an IPv4 address, [IPv6], * (every\n"
    "                        address) or a host name; PORT 1..65534, the PUB\n"
    "                        socket binds PORT+1\n"
    "  -l, --local N         spawn N native workers on this machine (1..256)\n"
    "  -P, --platforms LIST  start one worker per platform on this machine and\n"
    "                        remove them at the end: native, docker, qemu, kvm, or\n"
    "                        names from the experiment's 'platforms:' (default:\n"
    "                        those, when it has them and no --local/--expect);\n"
    "                        a platform this machine cannot provide is skipped\n"
    "                        with the reason\n"
    "      --require-all     fail instead when a platform cannot start\n"
    "  -e, --expect N|NAMES  workers to wait for: a count or a comma-separated list\n"
    "                        of names (default: from --local or the experiment)\n"
    "  -d, --db PATH         results database (default lockstep.db)\n"
    "  -t, --timeout SECONDS deadline for admission and for every barrier (default 30;\n"
    "                        admission of started platforms waits at least 120)\n"
    "  -k, --keys DIR        CURVE: admit only workers whose keys are in DIR/allowed\n"
    "                        (lockstep keygen DIR makes them; a key works only under\n"
    "                        its worker's name); needed to bind a non-loopback\n"
    "                        address; started platforms use DIR's certificates\n"
    "                        (without --keys, a platforms run mints its own)\n"
    "      --insecure        allow binding a non-loopback address without CURVE,\n"
    "                        and run started platforms without it\n"
    "                        (then anyone who reaches the ports can register, and\n"
    "                        use up the coordinator's memory: docs/guarantees.md)\n"
    "  -r, --resume RUN      finish run RUN of the database (FILE optional: the run\n"
    "                        goes on with the experiment it began with)\n"
    "      --new             a new run, even if one of this experiment was cut short\n"
    "  -q, --quiet           no progress: only errors and the final summary\n"
    "  -v, --verbose         debug logging, and a log line per repetition\n"
    "  -h, --help            this help\n"
    "\n"
    "Progress: on a terminal, a live status line on stderr (phase i/N, repetition\n"
    "r/R, workers done k/M, elapsed, ETA, lost workers); otherwise one log line\n"
    "per phase.\n"
    "\n"
    "Exit status: 0 complete, 3 partial (a worker lost or a result failed),\n"
    "2 invalid input, 1 other failure.\n";

static int s_parse_expect(const char *arg, int *count, char ***names, size_t *n)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg && *end == '\0') {
        if (v < 1 || v > 100000)
            return -1;
        *count = (int)v;
        return 0;
    }
    char *copy = strdup(arg), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        *names = realloc(*names, (*n + 1) * sizeof **names);
        (*names)[(*n)++] = strdup(tok);
    }
    free(copy);
    return *n ? 0 : -1;
}

static int s_spawn_locals(coord_t *c, int n, const char *spool_root, char *err, size_t errlen)
{
    char bin[4096];
    spawn_worker_path(bin, sizeof bin);
    for (int i = 0; i < n; i++) {
        char name[64], spool[4096];
        snprintf(name, sizeof name, "local-%d", i);
        snprintf(spool, sizeof spool, "%s/%s", spool_root, name);
        char *argv[] = { bin, "--connect", c->endpoint, "--name", name, "--platform", "native",
                         "--spool", spool, log_level() >= LOGL_DEBUG ? "--verbose" : "--quiet",
                         NULL };
        if (spawn_start(c->spawn, name, argv, err, errlen) != 0)
            return -1;
    }
    return 0;
}

struct run_args {
    const char *file, *bind, *db;
    const char *platforms;
    bool require_all, verbose, quiet;
    int local;
    int64_t timeout_ns;
    int expect_count;
    char **expect_names;
    size_t nexpect;
    bool insecure, fresh;
    const char *keys;
    int64_t resume;
    struct endpoint ep;          /* --bind, read strictly */
};

static int s_parse_args(int argc, char **argv, struct run_args *a)
{
    static const struct option longopts[] = {
        { "bind", required_argument, NULL, 'b' },   { "local", required_argument, NULL, 'l' },
        { "expect", required_argument, NULL, 'e' }, { "db", required_argument, NULL, 'd' },
        { "timeout", required_argument, NULL, 't' }, { "insecure", no_argument, NULL, 'I' },
        { "keys", required_argument, NULL, 'k' },   { "resume", required_argument, NULL, 'r' },
        { "new", no_argument, NULL, 'N' },
        { "quiet", no_argument, NULL, 'q' },        { "verbose", no_argument, NULL, 'v' },
        { "platforms", required_argument, NULL, 'P' }, { "require-all", no_argument, NULL, 'A' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    a->db = "lockstep.db";
    a->timeout_ns = 30 * NS_PER_SEC;
    int ch;
    char *end;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "b:l:e:d:t:P:k:r:qvh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b':
            a->bind = optarg;
            break;
        case 'l':
            a->local = (int)strtol(optarg, &end, 10);
            if (*end || a->local < 1 || a->local > 256) {
                fprintf(stderr, "lockstep run: --local '%s': expected a number of workers 1..256\n",
                        optarg);
                return EXIT_INVALID;
            }
            break;
        case 'e':
            if (s_parse_expect(optarg, &a->expect_count, &a->expect_names, &a->nexpect) != 0) {
                fprintf(stderr, "lockstep run: --expect '%s': expected a count or names\n", optarg);
                return EXIT_INVALID;
            }
            break;
        case 'd':
            a->db = optarg;
            break;
        case 't': {
            double t = strtod(optarg, &end);
            if (*end || t <= 0 || t > 86400) {
                fprintf(stderr, "lockstep run: --timeout '%s': expected seconds, 0 < t <= 86400\n",
                        optarg);
                return EXIT_INVALID;
            }
            a->timeout_ns = (int64_t)(t * NS_PER_SEC);
            break;
        }
        case 'I':
            a->insecure = true;
            break;
        case 'k':
            a->keys = optarg;
            break;
        case 'r':
            a->resume = strtoll(optarg, &end, 10);
            if (*end || a->resume < 1) {
                fprintf(stderr, "lockstep run: --resume '%s': expected a run number (lockstep "
                                "list shows them)\n", optarg);
                return EXIT_INVALID;
            }
            break;
        case 'N':
            a->fresh = true;
            break;
        case 'P':
            a->platforms = optarg;
            break;
        case 'A':
            a->require_all = true;
            break;
        case 'q':
            a->quiet = true;
            log_init("lockstep", LOGL_ERROR);
            break;
        case 'v':
            a->verbose = true;
            log_init("lockstep", LOGL_DEBUG);
            break;
        case 'h':
            fputs(s_usage, stdout);
            return -1;
        default:
            fputs("lockstep run: see 'lockstep run --help'\n", stderr);
            return EXIT_INVALID;
        }
    }
    if (optind != argc - 1 && !(a->resume && optind == argc)) {
        fprintf(stderr, "lockstep run: %s\n%s",
                optind >= argc ? "missing experiment FILE" : "too many arguments", s_usage);
        return EXIT_INVALID;
    }
    a->file = optind < argc ? argv[optind] : NULL;
    if (a->resume && a->fresh) {
        fprintf(stderr, "lockstep run: --resume and --new contradict each other\n");
        return EXIT_INVALID;
    }
    if (a->platforms && (a->local || a->expect_count || a->nexpect)) {
        fprintf(stderr, "lockstep run: --platforms starts its own workers; it does not go with "
                        "--local or --expect\n");
        return EXIT_INVALID;
    }
    if (!a->bind)
        a->bind = a->local || a->platforms ? "tcp://127.0.0.1:*" : NULL; /* NULL: see cmd_run */
    char why[512];
    if (a->bind && endpoint_parse(a->bind, &a->ep, why, sizeof why) != 0) {
        fprintf(stderr, "lockstep run: --bind %s: %s\n", a->bind, why);
        return EXIT_INVALID;
    }
    if (a->bind)
        a->bind = a->ep.canon;
    if (a->bind && !a->ep.loopback && !a->insecure && !a->keys) {
        fprintf(stderr,
                "lockstep run: --bind %s is not a loopback address: give --keys DIR (CURVE, "
                "lockstep keygen) so that only your workers get in, or --insecure to accept "
                "anyone who connects\n",
                a->bind);
        return EXIT_INVALID;
    }
    if (a->resume && a->platforms) {
        fprintf(stderr, "lockstep run: --resume does not go with --platforms yet (started "
                        "platforms are removed with their coordinator; resume with --local, "
                        "--expect or the experiment's workers)\n");
        return EXIT_INVALID;
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    struct run_args a = { 0 };
    int rc = s_parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;

    struct experiment *exp = NULL;
    if (a.file && experiment_load(a.file, &exp, stderr) != 0)
        return EXIT_INVALID;

    char err[1024];
    /* a run to finish?  Decided before anything is started, with the
     * database (the run's own experiment replaces FILE's) */
    struct store_run_info prev = { 0 };
    int resuming = 0;
    store_t *store = store_open(a.db, err, sizeof err);
    if (!store) {
        /* a --db that cannot be opened is the caller's to fix: nothing ran */
        fprintf(stderr, "lockstep run: %s\n", err);
        experiment_destroy(&exp);
        return EXIT_INVALID;
    }
    if ((resuming = resume_find(store, a.resume, a.fresh, &exp, &prev)) < 0) {
        store_destroy(&store);
        experiment_destroy(&exp);
        return -resuming;
    }
    if (!a.file)
        a.file = prev.file;
    /* the experiment's own platforms, when nothing else says which workers */
    bool use_platforms = a.platforms ||
                         (exp->nplatforms && !a.local && !a.expect_count && !a.nexpect);
    platforms_t *plats = NULL;
    if (use_platforms && resuming) {
        fprintf(stderr, "lockstep run: run %" PRId64 " started platforms; resuming it is not "
                        "supported yet (give --new for a new run)\n", prev.id);
        rc = EXIT_INVALID;
        goto early;
    }
    if (use_platforms) {
        if (!(plats = platforms_new(exp, a.platforms, err, sizeof err))) {
            fprintf(stderr, "lockstep run: %s\n", err);
            rc = EXIT_INVALID;
            goto early;
        }
        /* co-located platforms take turns unless the experiment says otherwise */
        for (size_t i = 0; i < exp->nphases; i++)
            if (!exp->phases[i].schedule_set)
                exp->phases[i].schedule = SCHED_ROUND_ROBIN;
    }
    if (!a.bind)
        a.bind = use_platforms ? "tcp://127.0.0.1:*" : "tcp://127.0.0.1:5555";
    /* launched workers speak CURVE: with --keys DIR's certificates, else
     * with keys minted for this run; only --insecure goes without (docker's
     * workers reach the coordinator on the bridge, where any container can) */
    const char *keys = a.keys;
    if (plats && a.keys)
        platforms_use_keys(plats, a.keys);
    else if (plats && !a.insecure && !(keys = platforms_mint_keys(plats, err, sizeof err))) {
        fprintf(stderr, "lockstep run: %s\n", err);
        rc = EXIT_FAIL;
        goto early;
    }
    coord_t *c = coord_new(a.bind, keys, err, sizeof err);
    if (!c) {
        fprintf(stderr, "lockstep run: %s\n", err);
        rc = EXIT_FAIL;
        goto early;
    }
    c->store = store;
    c->exp = exp;
    c->hb_ms = (int)(exp->heartbeat_ns / NS_PER_MS);
    c->miss_beats = exp->missed_beats;
    c->rejoin = exp->rejoin;
    c->interrupted = &s_interrupted;
    /* the command line wins over the file; --local N means exactly those N
     * workers, whatever names the experiment lists for lab machines */
    c->expect_count = a.expect_count ? a.expect_count : a.local ? a.local : exp->expect_count;
    if (a.nexpect) {
        c->expect_names = a.expect_names;
        c->nexpect_names = a.nexpect;
    } else if (!a.local && !a.expect_count) {
        c->expect_names = exp->expect_names;
        c->nexpect_names = exp->nexpect_names;
    }
    if (resuming && resume_apply(c, &prev, err, sizeof err) != 0) {
        fprintf(stderr, "lockstep run: %s\n", err);
        rc = EXIT_FAIL;
        goto out;
    }
    if (!c->expect_count && !c->nexpect_names && !plats) {
        fprintf(stderr, "lockstep run: %s: how many workers? give --local N, --expect N, or "
                        "'workers:' in the experiment\n", a.file);
        rc = EXIT_INVALID;
        goto out;
    }
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!resuming) {
        char owner[320];
        resume_owner(owner, sizeof owner);
        c->run = store_run_begin(store, exp->name, a.file, exp->source, clock_wall_ns(), owner,
                                 &c->run_key);
    }
    if (c->run <= 0) {
        fprintf(stderr, "lockstep run: %s: cannot record the run: %s\n", a.db,
                store_errmsg(store));
        rc = EXIT_FAIL;
        goto out;
    }
    log_info("run %" PRId64 ": experiment %s, %zu phases, ROUTER %s, PUB %s", c->run, exp->name,
             exp->nphases, c->endpoint, c->pub_endpoint);

    /* /var/tmp: a disk, where /tmp may be tmpfs (no O_DIRECT, and RAM);
     * named after the run, so that the local workers of a resumed run find
     * the results their predecessors spooled */
    char spool_root[64];
    snprintf(spool_root, sizeof spool_root, "/var/tmp/lockstep-spool-%016" PRIx64,
             (uint64_t)c->run_key);
    bool have_spool = false;
    if (a.local) {
        c->spawn = spawn_new();
        if (mkdir(spool_root, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "lockstep run: cannot create %s: %s\n", spool_root, strerror(errno));
            rc = EXIT_FAIL;
            goto finish;
        }
        have_spool = true;
        if (s_spawn_locals(c, a.local, spool_root, err, sizeof err) != 0) {
            fprintf(stderr, "lockstep run: %s\n", err);
            rc = EXIT_FAIL;
            goto finish;
        }
    }
    int64_t admit_ns = a.timeout_ns;
    if (plats) {
        char bin[4096];
        spawn_worker_path(bin, sizeof bin);
        int started = platforms_start(plats, c, bin, a.require_all, a.verbose, &s_interrupted,
                                      err, sizeof err);
        if (started < 0 || (started == 0 && !s_interrupted)) {
            fprintf(stderr, "lockstep run: %s\n",
                    started < 0 ? err : "no platform could start (reasons above)");
            rc = EXIT_FAIL;
            goto finish;
        }
        if ((size_t)started < platforms_count(plats))
            log_warn("%d of %zu platforms started; going on with them", started,
                     platforms_count(plats));
        /* a VM boots, a container starts: give them time; one that dies
         * ends the wait for itself */
        if (admit_ns < 120 * NS_PER_SEC)
            admit_ns = 120 * NS_PER_SEC;
    }
    int n = sched_admit(c, clock_mono_ns() + admit_ns, a.timeout_ns);
    if (plats && n >= 0 && platforms_admitted(plats, c) && a.require_all) {
        fprintf(stderr, "lockstep run: a platform's worker never registered (--require-all)\n");
        n = -1;
    }
    run_status_t status = RUN_FAILED;
    if (n == 0 && !c->store_failed)
        fprintf(stderr, "lockstep run: no worker registered at %s within %.0f s\n", c->endpoint,
                (double)a.timeout_ns / NS_PER_SEC);
    else if (n > 0) {
        progress_begin(c, a.quiet     ? PROGRESS_QUIET
                          : a.verbose ? PROGRESS_VERBOSE
                                      : PROGRESS_NORMAL);
        status = sched_phases(c, a.timeout_ns);
        progress_end();
    }
    else if (n < 0)
        status = RUN_FAILED;
    rc = status == RUN_COMPLETE ? EXIT_OK : status == RUN_PARTIAL ? EXIT_PARTIAL : EXIT_FAIL;

finish:
    sched_quit(c, s_interrupted ? "interrupted" : "run finished");
    coord_pump(c, 100); /* let the QUITs leave and late ACKs arrive */
    if (c->spawn) {
        spawn_stop_all(c->spawn, 5000);
        spawn_destroy(&c->spawn);
    }
    /* VMs power off after QUIT, containers exit: wait a little, then remove */
    platforms_stop(plats, 15000);
    /* unacknowledged results stay where they are when the run was cut short */
    if (have_spool && (c->store_failed || s_interrupted)) {
        fprintf(stderr, "lockstep run: unacknowledged results, if any, are kept in %s\n",
                spool_root);
    } else if (have_spool) {
        if (fs_rmtree(spool_root) != 0)
            log_warn("could not remove %s: %s", spool_root, strerror(errno));
    }
    {
        const char *st = rc == EXIT_OK ? "complete" : rc == EXIT_PARTIAL ? "partial" : "failed";
        if (s_interrupted)
            fprintf(stderr, "lockstep run: interrupted; 'lockstep run --resume %" PRId64
                            " --db %s' finishes the run later\n", c->run, a.db);
        if (c->store_failed)
            fprintf(stderr, "lockstep run: %s\nlockstep run: once the database is writable, "
                            "the same command resumes the run\n", c->store_err);
        if (store_run_end(store, c->run, st, clock_wall_ns()) != 0 && !c->store_failed)
            fprintf(stderr, "lockstep run: %s: cannot record the run's end: %s\n", a.db,
                    store_errmsg(store));
        int64_t ok = 0, failed = 0, lost = 0;
        store_run_counts(store, c->run, &ok, &failed, &lost);
        size_t nlost = 0, nback = 0;
        for (size_t i = 0; i < c->nworkers; i++) {
            nlost += c->workers[i]->lost;
            nback += c->workers[i]->rejoined;
        }
        char back[48] = "";
        if (nback)
            snprintf(back, sizeof back, ", %zu lost and back", nback);
        printf("run %" PRId64 " %s: %zu workers (%zu lost%s), %zu phases, results %" PRId64
               " ok, %" PRId64 " failed, %" PRId64 " lost\n",
               c->run, st, c->nworkers, nlost, back, exp->nphases, ok, failed, lost);
        store_summary(store, c->run, stdout);
        sched_skew_summary(c, stdout);
        platforms_summary(plats, c, stdout);
        printf("results: %s (lockstep export --db %s --run %" PRId64 " --format csv)\n", a.db,
               a.db, c->run);
    }
out:
    coord_destroy(&c);
early:
    platforms_destroy(&plats);
    store_destroy(&store);
    experiment_destroy(&exp);
    store_run_info_free(&prev);
    for (size_t i = 0; i < a.nexpect; i++)
        free(a.expect_names[i]);
    free(a.expect_names);
    return rc;
}
