/* main.c — lockstep-worker's command line: parse, then hand over to
 * worker_run().  --detect prints what this machine looks like and exits;
 * --swarm N runs N workers as threads of this process, a load tool. */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <zmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "oneshot.h"
#include "platform.h"
#include "proto.h"
#include "rt.h"
#include "worker.h"

static volatile sig_atomic_t s_interrupted;
static void s_on_signal(int sig)
{
    (void)sig;
    s_interrupted = 1;
}

static const char *s_usage =
    "usage: lockstep-worker --connect ENDPOINT [options]\n"
    "\n"
    "Register with a lockstep coordinator and run the benchmarks it schedules.\n"
    "Results are kept in the spool directory until the coordinator has stored them.\n"
    "\n"
    "  -c, --connect ENDPOINT  coordinator ROUTER endpoint, e.g. tcp://10.0.0.1:5555\n"
    "  -n, --name NAME         worker name, unique in a run (default: the host name)\n"
    "  -p, --platform P        auto (default: detect), a kind (native, docker, kvm,\n"
    "                          qemu) or a name of your own, e.g. labA\n"
    "  -l, --label KEY=VALUE   a label of this host (repeatable, up to 16), e.g.\n"
    "                          room=B12; reports can group by it (--by label:room)\n"
    "  -s, --spool DIR         spool directory (default /var/tmp/lockstep-worker-NAME)\n"
    "  -a, --advertise ADDR    address at which other workers reach this one\n"
    "      --forwarded G:H     the coordinator's host forwards its port H to our port G\n"
    "                          (a VM's port forward): serve iperf on G, reached there at H\n"
    "      --cert FILE         CURVE: this worker's secret certificate\n"
    "                          (NAME.cert_secret from lockstep keygen)\n"
    "      --server-cert FILE  CURVE: the coordinator's public certificate\n"
    "                          (coordinator.cert); both or neither\n"
    "      --detect            print the detected platform and host facts, then exit\n"
    "      --swarm N           load tool: run N workers (1..4096) as threads of this\n"
    "                          process, named NAME-0000.., sharing one ZeroMQ context,\n"
    "                          each with its own sockets and spool under --spool\n"
    "      --run BENCH [KEY=VALUE...]  run one benchmark once here, without a\n"
    "                          coordinator, and print its metrics (--json: as JSON;\n"
    "                          files go to --spool DIR, default the current directory)\n"
    "  -q, --quiet             only warnings and errors\n"
    "  -v, --verbose           debug logging\n"
    "  -V, --version           print the version\n"
    "  -h, --help              this help\n"
    "\n"
    "Exit status: 0 when the coordinator ends the run, 2 when it rejects this\n"
    "worker or the arguments are wrong, 1 on a local failure.\n";

struct swarm_one {
    struct worker_opts o;
    char name[256], spool[4096];
    pthread_t t;
    int rc;
};

static void *s_swarm_thread(void *arg)
{
    struct swarm_one *one = arg;
    one->rc = worker_run(&one->o);
    return NULL;
}

/* N workers in one process: what 1024 separate processes would cost in
 * memory and start-up time is not what the coordinator is being measured
 * for.  Each has its own DEALER, SUB, identity, spool and job thread. */
static int s_swarm(const struct worker_opts *base, int n, const char *prefix, const char *spool)
{
    /* about six descriptors a worker (two TCP connections, two socket
     * mailboxes, the job pipe) */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    void *zctx = zmq_ctx_new();
    /* per worker: DEALER, SUB, and the DEALER's monitor (its PAIR and the
     * one libzmq makes to feed it), with room for a reconnection's overlap */
    zmq_ctx_set(zctx, ZMQ_MAX_SOCKETS, 6 * n + 64);
    zmq_ctx_set(zctx, ZMQ_IO_THREADS, n > 64 ? 2 : 1);
    if (rt_raise_self())
        rt_zmq_ctx(zctx);
    struct swarm_one *all = calloc((size_t)n, sizeof *all);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    int started = 0;
    for (int i = 0; i < n; i++) {
        struct swarm_one *one = &all[i];
        one->o = *base;
        snprintf(one->name, sizeof one->name, "%s-%04d", prefix, i);
        snprintf(one->spool, sizeof one->spool, "%s/%s", spool, one->name);
        one->o.name = one->name;
        one->o.spool = one->spool;
        one->o.zctx = zctx;
        if (pthread_create(&one->t, &attr, s_swarm_thread, one) != 0) {
            log_error("swarm: cannot start worker %d of %d", i + 1, n);
            s_interrupted = 1;
            break;
        }
        started++;
    }
    pthread_attr_destroy(&attr);
    int rc = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(all[i].t, NULL);
        rc = all[i].rc > rc ? all[i].rc : rc;
    }
    free(all);
    zmq_ctx_term(zctx);
    return started < n ? 1 : rc;
}

/* A platform a worker may declare: a kind, or a name of the lab's own
 * ("labA", "rack3-nvme") to compare hosts by; auto = detect. */
static bool s_platform_ok(const char *p)
{
    size_t n = strlen(p);
    return n >= 1 && n <= 15 &&
           strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* KEY=VALUE, KEY a name (letters, digits, _ . -), VALUE up to 64 bytes. */
static bool s_label_ok(const char *l)
{
    const char *eq = strchr(l, '=');
    size_t k = eq ? (size_t)(eq - l) : 0;
    return eq && k >= 1 && k <= 32 && strlen(eq + 1) <= 64 &&
           strspn(l, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == k;
}

/* What the command line asked for beyond the worker's own options. */
struct args {
    struct worker_opts o;
    log_level_t level;
    bool detect, json;
    const char *oneshot; /* --run BENCH */
    int swarm;
};

/* --forwarded GUESTPORT:HOSTPORT */
static int s_forwarded(const char *arg, struct worker_opts *o)
{
    char *end;
    long g = strtol(arg, &end, 10), h = *end == ':' ? strtol(end + 1, &end, 10) : 0;
    if (*end || g < 1 || g > 65535 || h < 1 || h > 65535) {
        fprintf(stderr, "lockstep-worker: --forwarded '%s': expected GUESTPORT:HOSTPORT\n", arg);
        return -1;
    }
    o->fwd_guest = (int)g;
    o->fwd_host = (int)h;
    return 0;
}

static int s_label(const char *arg, struct worker_opts *o)
{
    if (!s_label_ok(arg)) {
        fprintf(stderr, "lockstep-worker: --label '%s': expected KEY=VALUE (KEY 1 to 32 "
                        "letters, digits, '_', '.', '-'; VALUE up to 64 bytes)\n", arg);
        return -1;
    }
    if (o->nlabels == WORKER_MAX_LABELS) {
        fprintf(stderr, "lockstep-worker: at most %d --label\n", WORKER_MAX_LABELS);
        return -1;
    }
    o->labels[o->nlabels++] = arg;
    return 0;
}

static int s_swarm_arg(const char *arg, int *swarm)
{
    char *end;
    long n = strtol(arg, &end, 10);
    if (*end || end == arg || n < 1 || n > 4096) {
        fprintf(stderr, "lockstep-worker: --swarm '%s': expected 1..4096\n", arg);
        return -1;
    }
    *swarm = (int)n;
    return 0;
}

/* Returns 0 to go on, 1 when the command is done (--help, --version), -1 on
 * a bad argument (already said). */
static int s_parse_args(int argc, char **argv, struct args *a)
{
    static const struct option longopts[] = {
        { "connect", required_argument, NULL, 'c' },   { "name", required_argument, NULL, 'n' },
        { "platform", required_argument, NULL, 'p' },  { "spool", required_argument, NULL, 's' },
        { "advertise", required_argument, NULL, 'a' }, { "detect", no_argument, NULL, 'D' },
        { "run", required_argument, NULL, 'R' },       { "json", no_argument, NULL, 'J' },
        { "proto-version", required_argument, NULL, 'P' },
        { "swarm", required_argument, NULL, 'S' },     { "forwarded", required_argument, NULL, 'F' },
        { "cert", required_argument, NULL, 'C' },      { "server-cert", required_argument, NULL, 'K' },
        { "label", required_argument, NULL, 'l' },
        { "quiet", no_argument, NULL, 'q' },           { "verbose", no_argument, NULL, 'v' },
        { "version", no_argument, NULL, 'V' },         { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct worker_opts *o = &a->o;
    int ch, rc = 0;
    while (rc == 0 && (ch = getopt_long(argc, argv, "c:n:p:s:a:l:qvVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o->connect = optarg; break;
        case 'n': o->name = optarg; break;
        case 'p': o->platform = optarg; break;
        case 's': o->spool = optarg; break;
        case 'a': o->advertise = optarg; break;
        case 'F': rc = s_forwarded(optarg, o); break;
        case 'C': o->cert = optarg; break;
        case 'K': o->server_cert = optarg; break;
        case 'l': rc = s_label(optarg, o); break;
        case 'D': a->detect = true; break;
        case 'R': a->oneshot = optarg; break;
        case 'J': a->json = true; break;
        case 'S': rc = s_swarm_arg(optarg, &a->swarm); break;
        case 'P': o->proto_version = strtoll(optarg, NULL, 10); break; /* for tests */
        case 'q': a->level = LOGL_WARN; break;
        case 'v': a->level = LOGL_DEBUG; break;
        case 'V': printf("lockstep-worker %s (protocol %d)\n", LOCKSTEP_VERSION, PROTO_VERSION); return 1;
        case 'h': fputs(s_usage, stdout); return 1;
        default: fputs("lockstep-worker: see 'lockstep-worker --help'\n", stderr); return -1;
        }
    }
    return rc;
}

static int s_detect(const struct worker_opts *o)
{
    struct host_facts f;
    host_facts_get(&f);
    host_disk_model(o->spool ? o->spool : ".", f.disk_model, sizeof f.disk_model);
    printf("platform: %s\nevidence: %s\nhostname: %s\nkernel: %s\ncpu: %s\ncores: %" PRId64
           "\nmemory: %" PRId64 " bytes\ndistribution: %s\ndisk: %s\n",
           f.platform, f.why, f.hostname, f.kernel, f.cpu_model, f.cores, f.mem_bytes,
           f.distro[0] ? f.distro : "unknown", f.disk_model[0] ? f.disk_model : "unknown");
    for (size_t i = 0; i < o->nlabels; i++)
        printf("label: %s\n", o->labels[i]);
    return 0;
}

/* What a worker that registers needs: an endpoint, a platform it may
 * declare, a name.  Says what is wrong and returns -1. */
static int s_check_worker(struct worker_opts *o, char *host, size_t hostlen)
{
    if (!o->connect) {
        fprintf(stderr, "lockstep-worker: --connect ENDPOINT is required\n");
        return -1;
    }
    if (!s_platform_ok(o->platform)) {
        fprintf(stderr, "lockstep-worker: --platform '%s': expected auto, a kind (native, docker, "
                        "kvm, qemu) or a name of your own (1 to 15 letters, digits, '_', '.', '-')\n",
                o->platform);
        return -1;
    }
    if (!o->name) {
        if (gethostname(host, hostlen) != 0)
            snprintf(host, hostlen, "worker-%d", (int)getpid());
        host[hostlen - 1] = '\0';
        o->name = host;
    }
    if (strlen(o->name) == 0 || strlen(o->name) > 200) {
        fprintf(stderr, "lockstep-worker: --name must be 1..200 characters\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct args a = { .o = { .platform = "auto", .proto_version = PROTO_VERSION },
                      .level = LOGL_INFO };
    int rc = s_parse_args(argc, argv, &a);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    struct worker_opts *o = &a.o;
    if (a.oneshot) {
        log_init("lockstep-worker", a.level);
        return oneshot_run(a.oneshot, argv + optind, argc - optind, o->spool ? o->spool : ".",
                           a.json);
    }
    if (!o->cert != !o->server_cert) {
        fprintf(stderr, "lockstep-worker: --cert and --server-cert go together (CURVE)\n");
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "lockstep-worker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (a.detect)
        return s_detect(o);
    char host[256];
    if (s_check_worker(o, host, sizeof host) != 0)
        return 2;
    char spool[4096];
    if (!o->spool) {
        snprintf(spool, sizeof spool, "/var/tmp/lockstep-%s-%s", a.swarm ? "swarm" : "worker",
                 o->name);
        o->spool = spool;
    }
    log_init(o->name, a.level);
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    o->interrupted = &s_interrupted;
    if (a.swarm)
        return s_swarm(o, a.swarm, o->name, o->spool);
    return worker_run(o);
}
