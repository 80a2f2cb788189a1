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

int main(int argc, char **argv)
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
    struct worker_opts o = { .platform = "auto", .proto_version = PROTO_VERSION };
    log_level_t level = LOGL_INFO;
    bool detect = false, json = false;
    const char *oneshot = NULL;
    int swarm = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:n:p:s:a:l:qvVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o.connect = optarg; break;
        case 'n': o.name = optarg; break;
        case 'p': o.platform = optarg; break;
        case 's': o.spool = optarg; break;
        case 'a': o.advertise = optarg; break;
        case 'F': {
            char *end;
            long g = strtol(optarg, &end, 10), h = *end == ':' ? strtol(end + 1, &end, 10) : 0;
            if (*end || g < 1 || g > 65535 || h < 1 || h > 65535) {
                fprintf(stderr, "lockstep-worker: --forwarded '%s': expected GUESTPORT:HOSTPORT\n",
                        optarg);
                return 2;
            }
            o.fwd_guest = (int)g;
            o.fwd_host = (int)h;
            break;
        }
        case 'C': o.cert = optarg; break;
        case 'K': o.server_cert = optarg; break;
        case 'l':
            if (!s_label_ok(optarg)) {
                fprintf(stderr, "lockstep-worker: --label '%s': expected KEY=VALUE (KEY 1 to 32 "
                                "letters, digits, '_', '.', '-'; VALUE up to 64 bytes)\n", optarg);
                return 2;
            }
            if (o.nlabels == WORKER_MAX_LABELS) {
                fprintf(stderr, "lockstep-worker: at most %d --label\n", WORKER_MAX_LABELS);
                return 2;
            }
            o.labels[o.nlabels++] = optarg;
            break;
        case 'D': detect = true; break;
        case 'R': oneshot = optarg; break;
        case 'J': json = true; break;
        case 'S':
            swarm = (int)strtol(optarg, NULL, 10);
            if (swarm < 1 || swarm > 4096) {
                fprintf(stderr, "lockstep-worker: --swarm '%s': expected 1..4096\n", optarg);
                return 2;
            }
            break;
        case 'P': o.proto_version = strtoll(optarg, NULL, 10); break; /* for tests */
        case 'q': level = LOGL_WARN; break;
        case 'v': level = LOGL_DEBUG; break;
        case 'V': printf("lockstep-worker %s (protocol %d)\n", LOCKSTEP_VERSION, PROTO_VERSION); return 0;
        case 'h': fputs(s_usage, stdout); return 0;
        default: fputs("lockstep-worker: see 'lockstep-worker --help'\n", stderr); return 2;
        }
    }
    if (oneshot) {
        log_init("lockstep-worker", level);
        return oneshot_run(oneshot, argv + optind, argc - optind, o.spool ? o.spool : ".", json);
    }
    if (!o.cert != !o.server_cert) {
        fprintf(stderr, "lockstep-worker: --cert and --server-cert go together (CURVE)\n");
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "lockstep-worker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (detect) {
        struct host_facts f;
        host_facts_get(&f);
        host_disk_model(o.spool ? o.spool : ".", f.disk_model, sizeof f.disk_model);
        printf("platform: %s\nevidence: %s\nhostname: %s\nkernel: %s\ncpu: %s\ncores: %" PRId64
               "\nmemory: %" PRId64 " bytes\ndistribution: %s\ndisk: %s\n",
               f.platform, f.why, f.hostname, f.kernel, f.cpu_model, f.cores, f.mem_bytes,
               f.distro[0] ? f.distro : "unknown", f.disk_model[0] ? f.disk_model : "unknown");
        for (size_t i = 0; i < o.nlabels; i++)
            printf("label: %s\n", o.labels[i]);
        return 0;
    }
    if (!o.connect) {
        fprintf(stderr, "lockstep-worker: --connect ENDPOINT is required\n");
        return 2;
    }
    if (!s_platform_ok(o.platform)) {
        fprintf(stderr, "lockstep-worker: --platform '%s': expected auto, a kind (native, docker, "
                        "kvm, qemu) or a name of your own (1 to 15 letters, digits, '_', '.', '-')\n",
                o.platform);
        return 2;
    }
    char host[256];
    if (!o.name) {
        if (gethostname(host, sizeof host) != 0)
            snprintf(host, sizeof host, "worker-%d", (int)getpid());
        host[sizeof host - 1] = '\0';
        o.name = host;
    }
    if (strlen(o.name) == 0 || strlen(o.name) > 200) {
        fprintf(stderr, "lockstep-worker: --name must be 1..200 characters\n");
        return 2;
    }
    char spool[4096];
    if (!o.spool) {
        snprintf(spool, sizeof spool, "/var/tmp/lockstep-%s-%s", swarm ? "swarm" : "worker",
                 o.name);
        o.spool = spool;
    }
    log_init(o.name, level);
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    o.interrupted = &s_interrupted;
    if (swarm)
        return s_swarm(&o, swarm, o.name, o.spool);
    return worker_run(&o);
}
