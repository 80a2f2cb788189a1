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
#include "run/decide.h"
#include "model/experiment.h"
#include "fsutil.h"
#include "log.h"
#include "run/schedule.h"
#include "run/platforms.h"
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

static int s_spawn_locals(coord_t *c, spawn_t *sp, int n, const char *spool_root, char *err,
                          size_t errlen)
{
    char bin[4096];
    spawn_worker_path(bin, sizeof bin);
    for (int i = 0; i < n; i++) {
        char name[64], spool[4096];
        snprintf(name, sizeof name, "local-%d", i);
        snprintf(spool, sizeof spool, "%s/%s", spool_root, name);
        char *argv[] = { bin, "--connect", (char *)coord_endpoint(c), "--name", name, "--platform", "native",
                         "--spool", spool, log_level() >= LOGL_DEBUG ? "--verbose" : "--quiet",
                         NULL };
        if (spawn_start(sp, name, argv, err, errlen) != 0)
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

/* One option of `lockstep run`: 0, -1 after --help, or EXIT_INVALID
 * after saying why. */
static int s_parse_opt(int ch, struct run_args *a)
{
    char *end;
    switch (ch) {
    case 'b':
        a->bind = optarg;
        return 0;
    case 'l':
        a->local = (int)strtol(optarg, &end, 10);
        if (*end || a->local < 1 || a->local > 256) {
            fprintf(stderr, "lockstep run: --local '%s': expected a number of workers 1..256\n",
                    optarg);
            return EXIT_INVALID;
        }
        return 0;
    case 'e':
        if (s_parse_expect(optarg, &a->expect_count, &a->expect_names, &a->nexpect) != 0) {
            fprintf(stderr, "lockstep run: --expect '%s': expected a count or names\n", optarg);
            return EXIT_INVALID;
        }
        return 0;
    case 'd':
        a->db = optarg;
        return 0;
    case 't': {
        double t = strtod(optarg, &end);
        if (*end || t <= 0 || t > 86400) {
            fprintf(stderr, "lockstep run: --timeout '%s': expected seconds, 0 < t <= 86400\n",
                    optarg);
            return EXIT_INVALID;
        }
        a->timeout_ns = (int64_t)(t * NS_PER_SEC);
        return 0;
    }
    case 'I':
        a->insecure = true;
        return 0;
    case 'k':
        a->keys = optarg;
        return 0;
    case 'r':
        a->resume = strtoll(optarg, &end, 10);
        if (*end || a->resume < 1) {
            fprintf(stderr, "lockstep run: --resume '%s': expected a run number (lockstep "
                            "list shows them)\n", optarg);
            return EXIT_INVALID;
        }
        return 0;
    case 'N':
        a->fresh = true;
        return 0;
    case 'P':
        a->platforms = optarg;
        return 0;
    case 'A':
        a->require_all = true;
        return 0;
    case 'q':
        a->quiet = true;
        log_init("lockstep", LOGL_ERROR);
        return 0;
    case 'v':
        a->verbose = true;
        log_init("lockstep", LOGL_DEBUG);
        return 0;
    case 'h':
        fputs(s_usage, stdout);
        return -1;
    default:
        fputs("lockstep run: see 'lockstep run --help'\n", stderr);
        return EXIT_INVALID;
    }
}

/* What the options say together (after getopt): 0, or EXIT_INVALID after
 * saying why. */
static int s_check_args(int argc, char **argv, struct run_args *a)
{
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
    int ch, rc;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "b:l:e:d:t:P:k:r:qvh", longopts, NULL)) != -1)
        if ((rc = s_parse_opt(ch, a)) != 0)
            return rc;
    return s_check_args(argc, argv, a);
}

/* Everything one `lockstep run` holds, so that its steps are functions. */
struct run {
    struct run_args a;
    struct experiment *exp;
    store_t *store;
    struct store_run_info prev; /* the run resumed */
    bool resuming;
    platforms_t *plats;
    const char *keys;           /* CURVE certificates, for coord_new */
    coord_t *c;
    spawn_t *spawn;             /* --local workers */
    char spool_root[64];
    bool have_spool;
    char err[1024];
};

/* The experiment, the database, and which run: 0, or an exit status. */
static int s_open(struct run *r)
{
    if (r->a.file && experiment_load(r->a.file, &r->exp, stderr) != 0)
        return EXIT_INVALID;
    /* a run to finish?  Decided before anything is started, with the
     * database (the run's own experiment replaces FILE's) */
    if (!(r->store = store_open(r->a.db, r->err, sizeof r->err))) {
        /* a --db that cannot be opened is the caller's to fix: nothing ran */
        fprintf(stderr, "lockstep run: %s\n", r->err);
        return EXIT_INVALID;
    }
    resume_t rs = resume_find(r->store, r->a.resume, r->a.fresh, &r->exp, &r->prev, stderr,
                              r->err, sizeof r->err);
    if (rs < 0) {
        fprintf(stderr, "lockstep run: %s\n", r->err);
        return rs == RESUME_E_INVALID ? EXIT_INVALID : EXIT_FAIL;
    }
    r->resuming = rs == RESUME_RUN;
    if (!r->a.file)
        r->a.file = r->prev.file;
    return 0;
}

/* The experiment's own platforms, when nothing else says which workers;
 * and the CURVE keys.  0, or an exit status. */
static int s_platforms(struct run *r)
{
    const struct run_args *a = &r->a;
    bool use = a->platforms || (r->exp->nplatforms && !a->local && !a->expect_count && !a->nexpect);
    if (use && r->resuming) {
        fprintf(stderr, "lockstep run: run %" PRId64 " started platforms; resuming it is not "
                        "supported yet (give --new for a new run)\n", r->prev.id);
        return EXIT_INVALID;
    }
    if (use) {
        if (!(r->plats = platforms_new(r->exp, a->platforms, r->err, sizeof r->err))) {
            fprintf(stderr, "lockstep run: %s\n", r->err);
            return EXIT_INVALID;
        }
        /* co-located platforms take turns unless the experiment says otherwise */
        for (size_t i = 0; i < r->exp->nphases; i++)
            if (!r->exp->phases[i].schedule_set)
                r->exp->phases[i].schedule = SCHED_ROUND_ROBIN;
    }
    if (!r->a.bind)
        r->a.bind = use ? "tcp://127.0.0.1:*" : "tcp://127.0.0.1:5555";
    /* launched workers speak CURVE: with --keys DIR's certificates, else
     * with keys minted for this run; only --insecure goes without (docker's
     * workers reach the coordinator on the bridge, where any container can) */
    r->keys = a->keys;
    if (r->plats && a->keys)
        platforms_use_keys(r->plats, a->keys);
    else if (r->plats && !a->insecure &&
             !(r->keys = platforms_mint_keys(r->plats, r->err, sizeof r->err))) {
        fprintf(stderr, "lockstep run: %s\n", r->err);
        return EXIT_FAIL;
    }
    return 0;
}

/* The coordinator, bound, with its run in the database.  0, or an exit status. */
static int s_coordinator(struct run *r)
{
    const struct run_args *a = &r->a;
    /* the command line wins over the file; --local N means exactly those N
     * workers, whatever names the experiment lists for lab machines */
    struct coord_config cfg = {
        .endpoint = a->bind, .keys_dir = r->keys, .store = r->store, .exp = r->exp,
        .interrupted = &s_interrupted,
        .expect_count = a->expect_count ? a->expect_count : a->local ? a->local
                                                                     : r->exp->expect_count,
    };
    if (a->nexpect) {
        cfg.expect_names = a->expect_names;
        cfg.nexpect_names = a->nexpect;
    } else if (!a->local && !a->expect_count) {
        cfg.expect_names = r->exp->expect_names;
        cfg.nexpect_names = r->exp->nexpect_names;
    }
    if (!(r->c = coord_new(&cfg, r->err, sizeof r->err))) {
        fprintf(stderr, "lockstep run: %s\n", r->err);
        return EXIT_FAIL;
    }
    if (r->resuming && resume_apply(r->c, &r->prev, r->err, sizeof r->err) != 0) {
        fprintf(stderr, "lockstep run: %s\n", r->err);
        return EXIT_FAIL;
    }
    if (!coord_expects_someone(r->c) && !r->plats) {
        fprintf(stderr, "lockstep run: %s: how many workers? give --local N, --expect N, or "
                        "'workers:' in the experiment\n", a->file);
        return EXIT_INVALID;
    }
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!r->resuming) {
        char owner[320];
        int64_t key = 0;
        resume_owner(owner, sizeof owner);
        int64_t run = store_run_begin(r->store, r->exp->name, a->file, r->exp->source,
                                      clock_wall_ns(), owner, &key);
        coord_set_run(r->c, run, key);
    }
    if (coord_run(r->c) <= 0) {
        fprintf(stderr, "lockstep run: %s: cannot record the run: %s\n", a->db,
                store_errmsg(r->store));
        return EXIT_FAIL;
    }
    log_info("run %" PRId64 ": experiment %s, %zu phases, ROUTER %s, PUB %s", coord_run(r->c),
             r->exp->name, r->exp->nphases, coord_endpoint(r->c), coord_pub_endpoint(r->c));
    return 0;
}

/* --local workers, or the platforms.  0, or an exit status; *admit_ns:
 * how long admission waits. */
static int s_workers(struct run *r, int64_t *admit_ns)
{
    /* /var/tmp: a disk, where /tmp may be tmpfs (no O_DIRECT, and RAM);
     * named after the run, so that the local workers of a resumed run find
     * the results their predecessors spooled */
    snprintf(r->spool_root, sizeof r->spool_root, "/var/tmp/lockstep-spool-%016" PRIx64,
             (uint64_t)coord_run_key(r->c));
    *admit_ns = r->a.timeout_ns;
    if (r->a.local) {
        r->spawn = spawn_new();
        coord_set_spawn(r->c, r->spawn);
        if (mkdir(r->spool_root, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "lockstep run: cannot create %s: %s\n", r->spool_root,
                    strerror(errno));
            return EXIT_FAIL;
        }
        r->have_spool = true;
        if (s_spawn_locals(r->c, r->spawn, r->a.local, r->spool_root, r->err, sizeof r->err)) {
            fprintf(stderr, "lockstep run: %s\n", r->err);
            return EXIT_FAIL;
        }
    }
    if (!r->plats)
        return 0;
    char bin[4096];
    spawn_worker_path(bin, sizeof bin);
    int started = platforms_start(r->plats, r->c, bin, r->a.require_all, r->a.verbose,
                                  &s_interrupted, r->err, sizeof r->err);
    if (started < 0 || (started == 0 && !s_interrupted)) {
        fprintf(stderr, "lockstep run: %s\n",
                started < 0 ? r->err : "no platform could start (reasons above)");
        return EXIT_FAIL;
    }
    if ((size_t)started < platforms_count(r->plats))
        log_warn("%d of %zu platforms started; going on with them", started,
                 platforms_count(r->plats));
    /* a VM boots, a container starts: give them time; one that dies
     * ends the wait for itself */
    if (*admit_ns < 120 * NS_PER_SEC)
        *admit_ns = 120 * NS_PER_SEC;
    return 0;
}

/* Admission, then the phases. */
static run_status_t s_phases(struct run *r, int64_t admit_ns)
{
    int n = sched_admit(r->c, clock_mono_ns() + admit_ns, r->a.timeout_ns);
    if (r->plats && n >= 0 && platforms_admitted(r->plats, r->c) && r->a.require_all) {
        fprintf(stderr, "lockstep run: a platform's worker never registered (--require-all)\n");
        return RUN_FAILED;
    }
    if (n == 0 && !coord_store_error(r->c))
        fprintf(stderr, "lockstep run: no worker registered at %s within %.0f s\n",
                coord_endpoint(r->c), (double)r->a.timeout_ns / NS_PER_SEC);
    if (n <= 0)
        return RUN_FAILED;
    progress_begin(r->c, r->a.quiet     ? PROGRESS_QUIET
                         : r->a.verbose ? PROGRESS_VERBOSE
                                        : PROGRESS_NORMAL);
    run_status_t st = sched_phases(r->c, r->a.timeout_ns);
    progress_end();
    return st;
}

/* The run is over: workers told, children and platforms stopped, the spool
 * removed unless results may wait in it. */
static void s_wind_down(struct run *r)
{
    sched_quit(r->c, s_interrupted ? "interrupted" : "run finished");
    coord_pump(r->c, 100); /* let the QUITs leave and late ACKs arrive */
    if (r->spawn) {
        spawn_stop_all(r->spawn, 5000);
        coord_set_spawn(r->c, NULL);
        spawn_destroy(&r->spawn);
    }
    /* VMs power off after QUIT, containers exit: wait a little, then remove */
    platforms_stop(r->plats, 15000);
    /* unacknowledged results stay where they are when the run was cut short */
    if (r->have_spool && (coord_store_error(r->c) || s_interrupted)) {
        fprintf(stderr, "lockstep run: unacknowledged results, if any, are kept in %s\n",
                r->spool_root);
    } else if (r->have_spool) {
        if (fs_rmtree(r->spool_root) != 0)
            log_warn("could not remove %s: %s", r->spool_root, strerror(errno));
    }
}

/* The run's end in the database, and the summary on stdout. */
static void s_summary(struct run *r, run_status_t status)
{
    const char *st = run_status_name(status), *db = r->a.db;
    int64_t run = coord_run(r->c);
    if (s_interrupted)
        fprintf(stderr, "lockstep run: interrupted; 'lockstep run --resume %" PRId64
                        " --db %s' finishes the run later\n", run, db);
    if (coord_store_error(r->c))
        fprintf(stderr, "lockstep run: %s\nlockstep run: once the database is writable, "
                        "the same command resumes the run\n", coord_store_error(r->c));
    if (store_run_end(r->store, run, st, clock_wall_ns()) != 0 && !coord_store_error(r->c))
        fprintf(stderr, "lockstep run: %s: cannot record the run's end: %s\n", db,
                store_errmsg(r->store));
    int64_t ok = 0, failed = 0, lost = 0;
    store_run_counts(r->store, run, &ok, &failed, &lost);
    struct coord_tally t;
    coord_tally(r->c, &t);
    char back[48] = "";
    if (t.back)
        snprintf(back, sizeof back, ", %zu lost and back", t.back);
    printf("run %" PRId64 " %s: %zu workers (%zu lost%s), %zu phases, results %" PRId64
           " ok, %" PRId64 " failed, %" PRId64 " lost\n",
           run, st, t.workers, t.lost, back, r->exp->nphases, ok, failed, lost);
    store_summary(r->store, run, stdout);
    sched_skew_summary(r->c, stdout);
    platforms_summary(r->plats, r->c, stdout);
    printf("results: %s (lockstep export --db %s --run %" PRId64 " --format csv)\n", db, db,
           run);
}

/* A run's status as the process's exit status (cmd.h). */
static int s_exit_status(run_status_t st)
{
    return st == RUN_COMPLETE ? EXIT_OK : st == RUN_PARTIAL ? EXIT_PARTIAL : EXIT_FAIL;
}

int cmd_run(int argc, char **argv)
{
    struct run r = { .resuming = false };
    int rc = s_parse_args(argc, argv, &r.a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    if ((rc = s_open(&r)) == 0 && (rc = s_platforms(&r)) == 0 && (rc = s_coordinator(&r)) == 0) {
        int64_t admit_ns = 0;
        run_status_t status = RUN_FAILED;
        if ((rc = s_workers(&r, &admit_ns)) == 0) {
            status = s_phases(&r, admit_ns);
            rc = s_exit_status(status);
        }
        s_wind_down(&r);
        s_summary(&r, status);
    }
    coord_destroy(&r.c);
    platforms_destroy(&r.plats);
    store_destroy(&r.store);
    experiment_destroy(&r.exp);
    store_run_info_free(&r.prev);
    for (size_t i = 0; i < r.a.nexpect; i++)
        free(r.a.expect_names[i]);
    free(r.a.expect_names);
    return rc;
}
