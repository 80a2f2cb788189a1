/* main.c — lockstep-worker's command line: parse, then hand over to
 * worker_run().  --detect prints what this machine looks like and exits. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "oneshot.h"
#include "platform.h"
#include "proto.h"
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
    "  -p, --platform P        auto (default), native, docker, kvm or qemu\n"
    "  -s, --spool DIR         spool directory (default /var/tmp/lockstep-worker-NAME)\n"
    "  -a, --advertise ADDR    address at which other workers reach this one\n"
    "      --detect            print the detected platform and host facts, then exit\n"
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

static bool s_known_platform(const char *p)
{
    static const char *const known[] = { "auto", "native", "docker", "kvm", "qemu", NULL };
    for (const char *const *k = known; *k; k++)
        if (strcmp(p, *k) == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "connect", required_argument, NULL, 'c' },   { "name", required_argument, NULL, 'n' },
        { "platform", required_argument, NULL, 'p' },  { "spool", required_argument, NULL, 's' },
        { "advertise", required_argument, NULL, 'a' }, { "detect", no_argument, NULL, 'D' },
        { "run", required_argument, NULL, 'R' },       { "json", no_argument, NULL, 'J' },
        { "proto-version", required_argument, NULL, 'P' },
        { "quiet", no_argument, NULL, 'q' },           { "verbose", no_argument, NULL, 'v' },
        { "version", no_argument, NULL, 'V' },         { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct worker_opts o = { .platform = "auto", .proto_version = PROTO_VERSION };
    log_level_t level = LOGL_INFO;
    bool detect = false, json = false;
    const char *oneshot = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:n:p:s:a:qvVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c': o.connect = optarg; break;
        case 'n': o.name = optarg; break;
        case 'p': o.platform = optarg; break;
        case 's': o.spool = optarg; break;
        case 'a': o.advertise = optarg; break;
        case 'D': detect = true; break;
        case 'R': oneshot = optarg; break;
        case 'J': json = true; break;
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
    if (optind < argc) {
        fprintf(stderr, "lockstep-worker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (detect) {
        struct host_facts f;
        host_facts_get(&f);
        printf("platform: %s\nevidence: %s\nhostname: %s\nkernel: %s\ncpu: %s\ncores: %" PRId64
               "\nmemory: %" PRId64 " bytes\n",
               f.platform, f.why, f.hostname, f.kernel, f.cpu_model, f.cores, f.mem_bytes);
        return 0;
    }
    if (!o.connect) {
        fprintf(stderr, "lockstep-worker: --connect ENDPOINT is required\n");
        return 2;
    }
    if (!s_known_platform(o.platform)) {
        fprintf(stderr, "lockstep-worker: --platform '%s': expected auto, native, docker, kvm or qemu\n",
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
        snprintf(spool, sizeof spool, "/var/tmp/lockstep-worker-%s", o.name);
        o.spool = spool;
    }
    log_init(o.name, level);
    struct sigaction sa = { .sa_handler = s_on_signal };
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    o.interrupted = &s_interrupted;
    return worker_run(&o);
}
