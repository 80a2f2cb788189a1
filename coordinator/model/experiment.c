/* experiment.c — load an experiment file (YAML) and check up front all that a
 * run would trip over minutes later: keys, types, ranges, benchmark options.
 * Every problem gets its line and column; checking goes on to find them all.
 */
#include "experiment.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "expect.h"
#include "proto.h" /* the liveness defaults, shared with the worker */

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL
#define NAME_MAX_LEN 128
#define WORKERS_MAX 4096
#define REPS_MAX 100000
#define FILE_MAX_BYTES (16u << 20)

static const char *const s_top_keys[] = {"name",        "description", "workers",
                                         "schedule",    "repetitions", "start_delay",
                                         "grace",       "phases",      "platforms",
                                         "expectations", "skew_tolerance", "heartbeat",
                                         "missed_beats", "rejoin", "interleave", "tools", NULL};
enum { T_NAME, T_DESCRIPTION, T_WORKERS, T_SCHEDULE, T_REPS, T_START_DELAY, T_GRACE, T_PHASES,
       T_PLATFORMS, T_EXPECTATIONS, T_SKEW_TOL, T_HEARTBEAT, T_MISSED, T_REJOIN, T_INTERLEAVE,
       T_TOOLS, T_COUNT };

/* A platform instance's settings (struct launch_spec). */
static const char *const s_plat_keys[] = {"name",  "kind",   "cpus",   "memory", "disk",
                                          "image", "kernel", "accel",  "volume", "tools", "role", NULL};
enum { L_NAME, L_KIND, L_CPUS, L_MEMORY, L_DISK, L_IMAGE, L_KERNEL, L_ACCEL, L_VOLUME, L_TOOLS,
       L_ROLE, L_COUNT };

static const char *const s_phase_keys[] = {"name",    "bench",   "schedule", "repetitions",
                                           "timeout", "workers", "params",   "servers",
                                           "targets", "skew_tolerance", "reference_for", NULL};
enum { P_NAME, P_BENCH, P_SCHEDULE, P_REPS, P_TIMEOUT, P_WORKERS, P_PARAMS, P_SERVERS,
       P_TARGETS, P_SKEW_TOL, P_REFERENCE_FOR, P_COUNT };

/* Options of a network benchmark that the coordinator sets, per client. */
static const char *const s_paired_opts[] = {"role", "peers", "port", NULL};

/* What a phase's `workers` may name besides a worker: a platform. */
static const char *const s_platforms[] = {"native", "docker", "kvm", "qemu", NULL};

/* One problem, kept until the end so they print in file order. */
struct s_msg {
    int line, col;
    size_t seq;
    char *text;
};

typedef struct {
    const char *path;
    yaml_document_t *doc;
    struct s_msg *msgs;
    size_t nmsgs, cap;
    int lost; /* problems whose message could not be stored (out of memory) */
} loader_t;

const char *sched_name(sched_kind_t kind)
{
    switch (kind) {
    case SCHED_LOCKSTEP: return "lockstep";
    case SCHED_ROUND_ROBIN: return "round-robin";
    }
    return "unknown";
}

/* --- problems ------------------------------------------------------------ */

static void s_vproblem(loader_t *ld, int line, int col, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void s_vproblem(loader_t *ld, int line, int col, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int len = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *text = len < 0 ? NULL : malloc((size_t)len + 1);
    if (!text) {
        ld->lost++;
        return;
    }
    vsnprintf(text, (size_t)len + 1, fmt, ap);
    if (ld->nmsgs == ld->cap) {
        size_t cap = ld->cap ? ld->cap * 2 : 16;
        struct s_msg *m = realloc(ld->msgs, cap * sizeof *m);
        if (!m) {
            free(text);
            ld->lost++;
            return;
        }
        ld->msgs = m;
        ld->cap = cap;
    }
    ld->msgs[ld->nmsgs] = (struct s_msg){line, col, ld->nmsgs, text};
    ld->nmsgs++;
}

static void s_problem_at(loader_t *ld, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_problem_at(loader_t *ld, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vproblem(ld, line, col, fmt, ap);
    va_end(ap);
}

/* A problem located at the start of a node (libyaml marks are 0-based). */
static void s_problem(loader_t *ld, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_problem(loader_t *ld, const yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vproblem(ld, (int)node->start_mark.line + 1, (int)node->start_mark.column + 1, fmt, ap);
    va_end(ap);
}

static int s_msg_cmp(const void *a, const void *b)
{
    const struct s_msg *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Print every stored problem in file order, free them, return the count. */
static int s_flush(loader_t *ld, FILE *diag)
{
    if (ld->nmsgs)
        qsort(ld->msgs, ld->nmsgs, sizeof *ld->msgs, s_msg_cmp);
    for (size_t i = 0; i < ld->nmsgs; i++) {
        if (diag)
            fprintf(diag, "%s:%d:%d: %s\n", ld->path, ld->msgs[i].line, ld->msgs[i].col,
                    ld->msgs[i].text);
        free(ld->msgs[i].text);
    }
    if (ld->lost && diag)
        fprintf(diag, "%s: %d more problem(s) not shown: out of memory\n", ld->path, ld->lost);
    free(ld->msgs);
    int n = (int)ld->nmsgs + ld->lost;
    ld->msgs = NULL;
    ld->nmsgs = ld->cap = 0;
    ld->lost = 0;
    return n;
}

/* --- node helpers -------------------------------------------------------- */

static yaml_node_t *s_node(loader_t *ld, int id)
{
    return yaml_document_get_node(ld->doc, id);
}

/* How a node reads in a message: "a map", "a list", "nothing" or 'text'. */
static const char *s_found(const yaml_node_t *n, char *buf, size_t len)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a map";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (n->data.scalar.length == 0)
        return "nothing";
    snprintf(buf, len, "'%.40s%s'", (const char *)n->data.scalar.value,
             n->data.scalar.length > 40 ? "..." : "");
    return buf;
}

/* The text of a scalar node, or NULL after reporting what was expected.
 * what names the subject of the message: "'repetitions'", "a key". */
static const char *s_scalar(loader_t *ld, const yaml_node_t *n, const char *what,
                            const char *expected)
{
    char buf[64];
    if (n->type != YAML_SCALAR_NODE) {
        s_problem(ld, n, "%s must be %s (found %s)", what, expected, s_found(n, buf, sizeof buf));
        return NULL;
    }
    const char *s = (const char *)n->data.scalar.value;
    if (strlen(s) != n->data.scalar.length) {
        s_problem(ld, n, "%s contains a NUL character", what);
        return NULL;
    }
    return s;
}

/* The same for the value of a key, named in quotes; `key:` with nothing
 * after it is reported as such rather than as an empty string. */
static const char *s_key_scalar(loader_t *ld, const yaml_node_t *n, const char *key,
                                const char *expected)
{
    char what[64];
    snprintf(what, sizeof what, "'%s'", key);
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
        n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        s_problem(ld, n, "%s must be %s (found nothing)", what, expected);
        return NULL;
    }
    return s_scalar(ld, n, what, expected);
}

static bool s_key_is(const yaml_node_t *k, const char *key)
{
    return k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0;
}

static char *s_strdup(loader_t *ld, const yaml_node_t *n, const char *s)
{
    char *d = strdup(s);
    if (!d)
        s_problem(ld, n, "out of memory");
    return d;
}

/* "a, b, c" from a NULL-terminated list, for "expected one of" messages. */
static void s_join(const char *const *list, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; list[i] && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", list[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* Match a map's keys against a table: report keys that are not strings,
 * unknown or repeated, and hand back the value node of each known key. */
static void s_map_keys(loader_t *ld, const yaml_node_t *map, const char *const *known,
                       yaml_node_t **vals)
{
    yaml_node_t *keys[16] = {0};
    char list[256];
    for (size_t i = 0; known[i]; i++)
        assert(i < sizeof keys / sizeof keys[0]);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = s_node(ld, p->key);
        const char *name = s_scalar(ld, k, "a key", "a plain string");
        if (!name)
            continue;
        size_t i = 0;
        while (known[i] && strcmp(known[i], name) != 0)
            i++;
        if (!known[i]) {
            s_join(known, list, sizeof list);
            s_problem(ld, k, "unknown key '%s' (expected one of: %s)", name, list);
        } else if (keys[i]) {
            s_problem(ld, k, "duplicate key '%s' (first at line %d)", name,
                      (int)keys[i]->start_mark.line + 1);
        } else {
            keys[i] = k;
            vals[i] = s_node(ld, p->value);
        }
    }
}

/* --- value parsers ------------------------------------------------------- */

/* A plain decimal integer in min..max; reports and returns -1 otherwise. */
static int s_int(loader_t *ld, const yaml_node_t *n, const char *what, long long min,
                 long long max, long long *out)
{
    const char *s = s_key_scalar(ld, n, what, "an integer");
    if (!s)
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || end == s || isspace((unsigned char)s[0])) {
        s_problem(ld, n, "%s: '%s' is not an integer (allowed %lld..%lld)", what, s, min, max);
        return -1;
    }
    if (errno == ERANGE || v < min || v > max) {
        s_problem(ld, n, "%s: %s is out of range (allowed %lld..%lld)", what, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

/* A duration written as the options table does ("500ms", "2s"), in min..max. */
static int s_duration(loader_t *ld, const yaml_node_t *n, const char *what, int64_t min,
                      int64_t max, const char *range, int64_t *out)
{
    const char *s = s_key_scalar(ld, n, what, "a duration");
    if (!s)
        return -1;
    int64_t ns = 0;
    if (opt_parse_duration(s, &ns) != 0) {
        s_problem(ld, n, "%s: '%s' is not a duration (seconds, or a number with an ns, us, ms, s, m "
                  "or h suffix)", what, s);
        return -1;
    }
    if (ns < min || ns > max) {
        s_problem(ld, n, "%s: %s is out of range (allowed %s)", what, s, range);
        return -1;
    }
    *out = ns;
    return 0;
}

/* One rule for every boolean lockstep reads, here and in benchmark options
 * (fsync: 1 and rejoin: 1 mean the same): opt_parse_bool's — YAML 1.2's
 * true/false, YAML 1.1's yes/no/on/off (not its y/n, which read as names),
 * and 1/0 as fio and sysbench write them; any case.  Reports and returns -1
 * otherwise. */
static int s_bool(loader_t *ld, const yaml_node_t *n, const char *what, bool *out)
{
    const char *s = s_key_scalar(ld, n, what, "true or false");
    if (!s)
        return -1;
    if (opt_parse_bool(s, out) == 0)
        return 0;
    s_problem(ld, n, "%s: '%s' is not true or false", what, s);
    return -1;
}

static int s_schedule(loader_t *ld, const yaml_node_t *n, sched_kind_t *out)
{
    const char *s = s_key_scalar(ld, n, "schedule", "lockstep or round-robin");
    if (!s)
        return -1;
    if (strcmp(s, "lockstep") == 0)
        *out = SCHED_LOCKSTEP;
    else if (strcmp(s, "round-robin") == 0)
        *out = SCHED_ROUND_ROBIN;
    else {
        s_problem(ld, n, "schedule: '%s' is not a schedule (expected one of: lockstep, round-robin)",
                  s);
        return -1;
    }
    return 0;
}

/* Experiment and phase names end up in file names, the database and the
 * command line: keep them to a safe alphabet. */
static const char *s_name(loader_t *ld, const yaml_node_t *n, const char *what)
{
    const char *s = s_key_scalar(ld, n, what, "a string");
    if (!s)
        return NULL;
    size_t len = strlen(s);
    bool ok = len > 0 && len <= NAME_MAX_LEN;
    for (size_t i = 0; ok && i < len; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
             (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-';
    if (!ok) {
        s_problem(ld, n, "%s: '%s' is not a valid name (use 1 to %d letters, digits, '_', '.' or '-')",
                  what, s, NAME_MAX_LEN);
        return NULL;
    }
    return s;
}

/* A worker name or platform: any printable text without spaces. */
static bool s_token_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return false;
    return true;
}

static bool s_in(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n && list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* A list of worker names (or platforms), unique; *out gets strdup'd copies. */
static int s_name_list(loader_t *ld, const yaml_node_t *seq, const char *what, char ***out,
                       size_t *nout)
{
    const yaml_node_item_t *it = seq->data.sequence.items.start;
    size_t n = (size_t)(seq->data.sequence.items.top - it);
    int bad = 0;
    if (n == 0) {
        s_problem(ld, seq, "%s: the list is empty", what);
        return -1;
    }
    char **names = calloc(n, sizeof *names);
    if (!names) {
        s_problem(ld, seq, "out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = s_node(ld, it[i]);
        char each[64];
        snprintf(each, sizeof each, "each entry of '%s'", what);
        const char *s = s_scalar(ld, item, each, "a name");
        if (!s) {
            bad = 1;
        } else if (!s_token_ok(s)) {
            s_problem(ld, item, "%s: '%s' is not a valid name (1 to %d characters, no spaces)",
                      what, s, NAME_MAX_LEN);
            bad = 1;
        } else if (s_in((const char *const *)names, k, s)) {
            s_problem(ld, item, "%s: '%s' is listed twice", what, s);
            bad = 1;
        } else if (!(names[k++] = s_strdup(ld, item, s))) {
            bad = 1;
        }
    }
    *out = names;
    *nout = k;
    return bad ? -1 : 0;
}

/* --- phases -------------------------------------------------------------- */

/* Format a duration exactly, in the largest unit that divides it. */
static void s_fmt_ns(int64_t ns, char *buf, size_t len)
{
    static const struct { int64_t ns; const char *unit; } units[] = {
        {3600 * NS_PER_S, "h"}, {60 * NS_PER_S, "m"}, {NS_PER_S, "s"},
        {NS_PER_MS, "ms"},      {1000, "us"},         {1, "ns"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ns % units[i].ns == 0 || units[i].ns == 1) {
            snprintf(buf, len, "%" PRId64 "%s", ns / units[i].ns, units[i].unit);
            return;
        }
}

static void s_bench(loader_t *ld, const yaml_node_t *n, struct exp_phase *ph)
{
    const char *s = s_key_scalar(ld, n, "bench", "a benchmark name");
    if (!s)
        return;
    const struct bench_ops *ops = bench_find(s);
    if (!ops) {
        const struct bench_ops *const *all = bench_all();
        char list[512];
        size_t used = 0;
        list[0] = '\0';
        for (size_t i = 0; all && all[i] && used < sizeof list; i++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", all[i]->name);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        s_problem(ld, n, "unknown benchmark '%s' (known: %s)", s, list);
        return;
    }
    if (ops->version != BENCH_API_VERSION) {
        s_problem(ld, n, "benchmark '%s' speaks plug-in API version %d, this build needs %d", s,
                  ops->version, BENCH_API_VERSION);
        return;
    }
    ph->bench = ops;
}

/* A sequence of scalars as the canonical JSON array of strings, or NULL
 * after reporting each entry that is not a string. */
static char *s_seq_json(loader_t *ld, const yaml_node_t *seq, const char *key)
{
    const yaml_node_item_t *it = seq->data.sequence.items.start;
    size_t n = (size_t)(seq->data.sequence.items.top - it);
    const char **items = malloc((n ? n : 1) * sizeof *items);
    if (!items) {
        s_problem(ld, seq, "out of memory");
        return NULL;
    }
    char what[96];
    snprintf(what, sizeof what, "each entry of '%s'", key);
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!(items[i] = s_scalar(ld, s_node(ld, it[i]), what, "a string")))
            bad = 1;
    char *json = bad ? NULL : opt_list_json(items, n);
    if (!bad && !json)
        s_problem(ld, seq, "out of memory");
    free(items);
    return json;
}

/* params: each value checked on its own with opt_parse (so a message points
 * at the value it is about), then all together with bench_opts_parse, whose
 * validate hook judges combinations. */
static void s_params(loader_t *ld, const yaml_node_t *phase_map, const yaml_node_t *map,
                     struct exp_phase *ph)
{
    const struct bench_ops *ops = ph->bench;
    char err[512], buf[64];
    int bad = 0;
    if (map && map->type != YAML_MAPPING_NODE) {
        s_problem(ld, map, "'params' must be a map of option: value (found %s)",
                  s_found(map, buf, sizeof buf));
        return;
    }
    size_t n = map ? (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start) : 0;
    if (n) {
        ph->keys = calloc(n, sizeof *ph->keys);
        ph->vals = calloc(n, sizeof *ph->vals);
        if (!ph->keys || !ph->vals) {
            s_problem(ld, map, "out of memory");
            return;
        }
    }
    void *scratch = NULL;
    if (ops && !(scratch = bench_opts_new(ops))) {
        s_problem(ld, map ? map : phase_map, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &map->data.mapping.pairs.start[i];
        yaml_node_t *k = s_node(ld, p->key), *v = s_node(ld, p->value);
        const char *key = s_scalar(ld, k, "an option name", "a plain string");
        if (!key) {
            bad = 1;
            continue;
        }
        size_t j = 0;
        while (j < i && !s_key_is(s_node(ld, map->data.mapping.pairs.start[j].key), key))
            j++;
        if (j < i) {
            s_problem(ld, k, "duplicate option '%s' (first at line %d)", key,
                      (int)s_node(ld, map->data.mapping.pairs.start[j].key)->start_mark.line + 1);
            bad = 1;
            continue;
        }
        const struct opt_def *def = ops ? opt_find(ops->options, key) : NULL;
        if (ops && !def) {
            const char *names[64];
            size_t m = 0;
            for (const struct opt_def *d = ops->options; d && d->name && m < 63; d++)
                names[m++] = d->name;
            names[m] = NULL;
            s_join(names, err, sizeof err);
            s_problem(ld, k, "unknown option '%s' for benchmark %s (known: %s)", key, ops->name,
                      m ? err : "none");
            bad = 1;
            continue;
        }
        /* A list-valued option takes a YAML sequence, turned here into the
         * JSON text that every option's value travels as. */
        bool want_list = def && def->type == OPT_LIST;
        char *json = NULL;
        const char *val;
        if (want_list && v->type == YAML_SEQUENCE_NODE)
            val = json = s_seq_json(ld, v, key);
        else
            val = s_key_scalar(ld, v, key, want_list ? "a list of strings" : "a single value");
        if (!val) {
            bad = 1;
            continue;
        }
        if (def) {
            err[0] = '\0';
            if (opt_parse(def, scratch, val, err, sizeof err) != 0) {
                s_problem(ld, v, "%s", err[0] ? err : "invalid value");
                free(json);
                bad = 1;
                continue;
            }
        }
        if (!(ph->keys[ph->nparams] = s_strdup(ld, k, key)) ||
            !(ph->vals[ph->nparams] = json ? json : s_strdup(ld, v, val))) {
            free(ph->keys[ph->nparams]);
            ph->keys[ph->nparams] = NULL;
            free(json);
            bad = 1;
            continue;
        }
        ph->nparams++;
    }
    if (scratch)
        bench_opts_destroy(ops, &scratch);
    if (!ops || bad)
        return;
    err[0] = '\0';
    if (bench_opts_parse(ops, (const char *const *)ph->keys, (const char *const *)ph->vals,
                         ph->nparams, &ph->opts, err, sizeof err) != 0) {
        ph->opts = NULL;
        s_problem(ld, map ? map : phase_map, "%s", err[0] ? err : "invalid options");
    }
}

static bool s_platform_named(const struct experiment *exp, const char *name)
{
    for (size_t i = 0; i < exp->nplatforms; i++)
        if (strcmp(exp->platforms[i].name, name) == 0)
            return true;
    return false;
}

/* With the workers named up front, a name in a phase's list that is neither
 * one of them nor a platform is a typo that would silently skip a phase. */
static void s_check_known(loader_t *ld, const struct experiment *exp, const yaml_node_t *seq,
                          const char *what, char *const *names, size_t n)
{
    if (!exp->expect_names)
        return;
    const yaml_node_item_t *it = seq->data.sequence.items.start;
    for (size_t i = 0; i < n; i++)
        if (!s_in((const char *const *)exp->expect_names, exp->nexpect_names, names[i]) &&
            !s_in(s_platforms, SIZE_MAX, names[i]) && !s_platform_named(exp, names[i]))
            s_problem(ld, s_node(ld, it[i]),
                      "%s: '%s' is neither a worker listed at the top level nor a "
                      "platform (native, docker, kvm, qemu)", what, names[i]);
}

/* servers / targets of a network phase (iperf): one of the two, only for a
 * network benchmark, which needs one of them. */
static void s_network(loader_t *ld, const struct experiment *exp, const yaml_node_t *map,
                      const yaml_node_t *servers, const yaml_node_t *targets,
                      const yaml_node_t *params, struct exp_phase *ph)
{
    char buf[64];
    bool paired = ph->bench && (ph->bench->flags & BENCH_F_PAIRED);
    if (ph->bench && !paired && (servers || targets)) {
        s_problem(ld, servers ? servers : targets,
                  "'%s' applies only to network benchmarks (iperf), not to '%s'",
                  servers ? "servers" : "targets", ph->bench->name);
        return;
    }
    if (servers && targets) {
        s_problem(ld, targets, "a phase has either 'servers' (workers that serve) or 'targets' "
                               "(public host:port), not both");
        return;
    }
    if (paired && !servers && !targets) {
        s_problem(ld, map, "benchmark '%s' needs 'servers' (workers that run the servers) or "
                           "'targets' (public servers as host:port or host:first-last)",
                  ph->bench->name);
        return;
    }
    if (paired && params && params->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = params->data.mapping.pairs.start;
             p < params->data.mapping.pairs.top; p++) {
            yaml_node_t *k = s_node(ld, p->key);
            if (k && k->type == YAML_SCALAR_NODE &&
                s_in(s_paired_opts, SIZE_MAX, (const char *)k->data.scalar.value))
                s_problem(ld, k, "'%s' is set by the coordinator for each client and server; "
                                 "use 'servers' or 'targets'", (const char *)k->data.scalar.value);
        }
    }
    if (servers) {
        if (servers->type != YAML_SEQUENCE_NODE)
            s_problem(ld, servers, "'servers' must be a list of worker names or platforms "
                                   "(found %s)", s_found(servers, buf, sizeof buf));
        else if (s_name_list(ld, servers, "servers", &ph->servers, &ph->nservers) == 0)
            s_check_known(ld, exp, servers, "servers", ph->servers, ph->nservers);
        return;
    }
    if (!targets)
        return;
    if (targets->type != YAML_SEQUENCE_NODE) {
        s_problem(ld, targets, "'targets' must be a list of host:port or host:first-last "
                               "(found %s)", s_found(targets, buf, sizeof buf));
        return;
    }
    const yaml_node_item_t *it = targets->data.sequence.items.start;
    size_t n = (size_t)(targets->data.sequence.items.top - it);
    if (n == 0) {
        s_problem(ld, targets, "targets: the list is empty");
        return;
    }
    ph->targets = calloc(n, sizeof *ph->targets);
    for (size_t i = 0; ph->targets && i < n; i++) {
        yaml_node_t *item = s_node(ld, it[i]);
        const char *s = s_scalar(ld, item, "each entry of 'targets'", "host:port");
        char err[320];
        if (s && pair_parse_target(s, &ph->targets[ph->ntargets], err, sizeof err) == 0)
            ph->ntargets++;
        else if (s)
            s_problem(ld, item, "targets: %s", err);
    }
}

static void s_phase(loader_t *ld, const struct experiment *exp, const yaml_node_t *map,
                    struct exp_phase *ph)
{
    yaml_node_t *v[P_COUNT] = {0};
    char buf[64];
    ph->schedule = exp->schedule;
    ph->schedule_set = exp->schedule_set;
    ph->reps = exp->reps;
    ph->skew_tolerance_ns = exp->skew_tolerance_ns;
    ph->line = (int)map->start_mark.line + 1;
    if (map->type != YAML_MAPPING_NODE) {
        s_problem(ld, map, "each phase must be a map with at least 'name' and 'bench' (found %s)",
                  s_found(map, buf, sizeof buf));
        return;
    }
    s_map_keys(ld, map, s_phase_keys, v);
    const char *name;
    if (!v[P_NAME])
        s_problem(ld, map, "missing required key 'name'");
    else if ((name = s_name(ld, v[P_NAME], "name")))
        ph->name = s_strdup(ld, v[P_NAME], name);
    if (!v[P_BENCH])
        s_problem(ld, map, "missing required key 'bench'");
    else
        s_bench(ld, v[P_BENCH], ph);
    if (v[P_SCHEDULE])
        ph->schedule_set = s_schedule(ld, v[P_SCHEDULE], &ph->schedule) == 0;
    long long reps;
    if (v[P_REPS] && s_int(ld, v[P_REPS], "repetitions", 1, REPS_MAX, &reps) == 0)
        ph->reps = (int)reps;
    if (v[P_WORKERS]) {
        if (v[P_WORKERS]->type != YAML_SEQUENCE_NODE)
            s_problem(ld, v[P_WORKERS], "'workers' must be a list of worker names or platforms "
                                        "(found %s)", s_found(v[P_WORKERS], buf, sizeof buf));
        else if (s_name_list(ld, v[P_WORKERS], "workers", &ph->workers, &ph->nworkers) == 0)
            s_check_known(ld, exp, v[P_WORKERS], "workers", ph->workers, ph->nworkers);
    }
    s_network(ld, exp, map, v[P_SERVERS], v[P_TARGETS], v[P_PARAMS], ph);
    if (v[P_PARAMS] || ph->bench)
        s_params(ld, map, v[P_PARAMS], ph);
    if (v[P_SKEW_TOL])
        s_duration(ld, v[P_SKEW_TOL], "skew_tolerance", 1000, 60 * NS_PER_S, "1us..60s",
                   &ph->skew_tolerance_ns);
    const char *ref;
    if (v[P_REFERENCE_FOR] && (ref = s_name(ld, v[P_REFERENCE_FOR], "reference_for"))) {
        ph->reference_for = s_strdup(ld, v[P_REFERENCE_FOR], ref);
        ph->reference_line = (int)v[P_REFERENCE_FOR]->start_mark.line + 1;
        ph->reference_col = (int)v[P_REFERENCE_FOR]->start_mark.column + 1;
    }
    if (v[P_TIMEOUT] &&
        s_duration(ld, v[P_TIMEOUT], "timeout", NS_PER_MS, 7 * 24 * 3600 * NS_PER_S, "1ms..168h",
                   &ph->timeout_ns) == 0 &&
        ph->opts && ph->bench->expected_ns) {
        int64_t want = ph->bench->expected_ns(ph->opts);
        if (want > 0 && ph->timeout_ns <= want) {
            char a[32], b[32];
            s_fmt_ns(ph->timeout_ns, a, sizeof a);
            s_fmt_ns(want, b, sizeof b);
            s_problem(ld, v[P_TIMEOUT], "timeout: %s is not longer than the %s the benchmark is "
                                        "expected to run; every repetition would time out", a, b);
        }
    }
}

/* A calibration phase's reference_for names another phase of the file, one
 * that runs a built-in (a reference of a reference compares nothing). */
static void s_references(loader_t *ld, struct experiment *exp)
{
    for (size_t i = 0; i < exp->nphases; i++) {
        const struct exp_phase *ph = &exp->phases[i];
        if (!ph->reference_for)
            continue;
        const struct exp_phase *to = NULL;
        for (size_t j = 0; j < exp->nphases; j++)
            if (exp->phases[j].name && strcmp(exp->phases[j].name, ph->reference_for) == 0)
                to = &exp->phases[j];
        if (!to)
            s_problem_at(ld, ph->reference_line, ph->reference_col,
                         "reference_for: no phase is called '%s' (it names the built-in phase "
                         "this one checks)", ph->reference_for);
        else if (to == ph)
            s_problem_at(ld, ph->reference_line, ph->reference_col,
                         "reference_for: a phase cannot be its own reference");
        else if (to->reference_for)
            s_problem_at(ld, ph->reference_line, ph->reference_col,
                         "reference_for: '%s' is itself a reference (of '%s'); name the "
                         "built-in phase", to->name, to->reference_for);
    }
}

static void s_phases(loader_t *ld, struct experiment *exp, const yaml_node_t *seq)
{
    char buf[64];
    if (seq->type != YAML_SEQUENCE_NODE) {
        s_problem(ld, seq, "'phases' must be a list of phases (found %s)",
                  s_found(seq, buf, sizeof buf));
        return;
    }
    const yaml_node_item_t *it = seq->data.sequence.items.start;
    size_t n = (size_t)(seq->data.sequence.items.top - it);
    if (n == 0) {
        s_problem(ld, seq, "'phases' must hold at least one phase");
        return;
    }
    if (!(exp->phases = calloc(n, sizeof *exp->phases))) {
        s_problem(ld, seq, "out of memory");
        return;
    }
    exp->nphases = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *map = s_node(ld, it[i]);
        s_phase(ld, exp, map, &exp->phases[i]);
        for (size_t j = 0; j < i && exp->phases[i].name; j++)
            if (exp->phases[j].name && strcmp(exp->phases[j].name, exp->phases[i].name) == 0) {
                /* point at the second name; the first phase's line is known */
                yaml_node_t *name_node = NULL;
                for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
                     p < map->data.mapping.pairs.top; p++)
                    if (s_key_is(s_node(ld, p->key), "name"))
                        name_node = s_node(ld, p->value);
                s_problem(ld, name_node ? name_node : map,
                          "duplicate phase name '%s' (first at line %d)", exp->phases[i].name,
                          exp->phases[j].line);
                break;
            }
    }
    s_references(ld, exp);
}

/* --- the document -------------------------------------------------------- */

static void s_workers(loader_t *ld, struct experiment *exp, const yaml_node_t *n)
{
    char buf[64];
    if (n->type == YAML_SEQUENCE_NODE) {
        if (s_name_list(ld, n, "workers", &exp->expect_names, &exp->nexpect_names) == 0)
            exp->expect_count = (int)exp->nexpect_names;
        return;
    }
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.length &&
        strspn((const char *)n->data.scalar.value, "+-0123456789") == n->data.scalar.length) {
        long long count;
        if (s_int(ld, n, "workers", 1, WORKERS_MAX, &count) == 0)
            exp->expect_count = (int)count;
        return;
    }
    s_problem(ld, n, "workers: expected a count (1..%d) or a list of worker names (found %s)",
              WORKERS_MAX, s_found(n, buf, sizeof buf));
}

/* A size setting of a platform ("1G", "512M"), at least 64 MiB. */
static void s_plat_size(loader_t *ld, const yaml_node_t *n, const char *what, int64_t *out)
{
    const char *s = s_key_scalar(ld, n, what, "a size");
    uint64_t v = 0;
    if (!s)
        return;
    if (opt_parse_size(s, &v) != 0 || v < (64u << 20) || v > ((uint64_t)1 << 44))
        s_problem(ld, n, "%s: '%s' is not a size from 64M to 16T (a number with a K, M, G or T "
                  "suffix)", what, s);
    else
        *out = (int64_t)v;
}

static char *s_plat_str(loader_t *ld, const yaml_node_t *n, const char *what)
{
    const char *s = s_key_scalar(ld, n, what, "a string");
    return s ? s_strdup(ld, n, s) : NULL;
}

/* `tools:` (top level or a platform's): host programs shipped into the
 * platforms beside the worker, each a name looked up in PATH when the
 * platform starts, or an absolute path. */
static void s_tools(loader_t *ld, const yaml_node_t *n, char ***out, size_t *nout)
{
    char buf[64];
    if (n->type != YAML_SEQUENCE_NODE) {
        s_problem(ld, n, "'tools' must be a list of programs, e.g. [sysbench, fio, iperf3] "
                         "(found %s)", s_found(n, buf, sizeof buf));
        return;
    }
    if (s_name_list(ld, n, "tools", out, nout) != 0)
        return;
    const yaml_node_item_t *it = n->data.sequence.items.start;
    for (size_t i = 0; i < *nout; i++) {
        const char *t = (*out)[i];
        if (t[0] != '/' && strchr(t, '/'))
            s_problem(ld, s_node(ld, it[i]), "tools: '%s' must be a program name (found in "
                      "PATH) or an absolute path", t);
    }
}

/* One entry of `platforms:`: a kind ("docker"), or a map of settings. */
static void s_platform(loader_t *ld, const yaml_node_t *n, struct launch_spec *sp)
{
    char buf[64];
    yaml_node_t *v[L_COUNT] = {0};
    const yaml_node_t *name_node = n;
    sp->line = (int)n->start_mark.line + 1;
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = s_name(ld, n, "platform");
        if (s)
            sp->name = s_strdup(ld, n, s);
    } else if (n->type == YAML_MAPPING_NODE) {
        s_map_keys(ld, n, s_plat_keys, v);
        const char *s;
        if (v[L_NAME] && (s = s_name(ld, v[L_NAME], "name"))) {
            sp->name = s_strdup(ld, v[L_NAME], s);
            name_node = v[L_NAME];
        } else if (!v[L_NAME]) {
            s_problem(ld, n, "a platform needs a 'name' (the worker's name)");
        }
        if (v[L_KIND] && (s = s_key_scalar(ld, v[L_KIND], "kind", "a platform kind")))
            sp->kind = s_strdup(ld, v[L_KIND], s);
    } else {
        s_problem(ld, n, "each platform must be a kind (%s) or a map of settings (found %s)",
                  "native, docker, qemu, kvm", s_found(n, buf, sizeof buf));
        return;
    }
    if (!sp->name)
        return;
    if (!sp->kind)
        sp->kind = s_strdup(ld, name_node, sp->name);
    if (sp->kind && !s_in(s_platforms, SIZE_MAX, sp->kind)) {
        s_problem(ld, v[L_KIND] ? v[L_KIND] : name_node,
                  "platform '%s': unknown kind '%s' (expected one of: %s; a name of your own "
                  "needs 'kind')", sp->name, sp->kind, "native, docker, qemu, kvm");
        return;
    }
    bool vm = sp->kind && (!strcmp(sp->kind, "qemu") || !strcmp(sp->kind, "kvm"));
    bool docker = sp->kind && !strcmp(sp->kind, "docker");
    long long cpus;
    if (v[L_CPUS] && s_int(ld, v[L_CPUS], "cpus", 1, 256, &cpus) == 0)
        sp->cpus = (int)cpus;
    if (v[L_MEMORY])
        s_plat_size(ld, v[L_MEMORY], "memory", &sp->memory);
    /* settings that only some kinds have: say so rather than ignore them */
    static const struct { int key; const char *kinds; } only[] = {
        {L_DISK, "qemu and kvm"},   {L_KERNEL, "qemu and kvm"}, {L_ACCEL, "qemu and kvm"},
        {L_IMAGE, "docker"},        {L_VOLUME, "docker"},
    };
    for (size_t i = 0; i < sizeof only / sizeof only[0]; i++) {
        bool fits = only[i].kinds[0] == 'q' ? vm : docker;
        if (v[only[i].key] && !fits)
            s_problem(ld, v[only[i].key], "'%s' applies to %s platforms, not to '%s' (%s)",
                      s_plat_keys[only[i].key], only[i].kinds, sp->name, sp->kind);
    }
    if (v[L_DISK] && vm)
        s_plat_size(ld, v[L_DISK], "disk", &sp->disk);
    if (v[L_KERNEL] && vm)
        sp->kernel = s_plat_str(ld, v[L_KERNEL], "kernel");
    if (v[L_ACCEL] && vm && (sp->accel = s_plat_str(ld, v[L_ACCEL], "accel")) &&
        strcmp(sp->accel, "tcg") != 0 && strcmp(sp->accel, "kvm") != 0)
        s_problem(ld, v[L_ACCEL], "accel: '%s' is not an accelerator (expected tcg or kvm)",
                  sp->accel);
    if (v[L_IMAGE] && docker)
        sp->image = s_plat_str(ld, v[L_IMAGE], "image");
    if (v[L_VOLUME] && docker && (sp->volume = s_plat_str(ld, v[L_VOLUME], "volume")) &&
        sp->volume[0] != '/')
        s_problem(ld, v[L_VOLUME], "volume: '%s' must be an absolute path on this host",
                  sp->volume);
    if (v[L_TOOLS])
        s_tools(ld, v[L_TOOLS], &sp->tools, &sp->ntools);
    const char *role;
    if (v[L_ROLE] && (role = s_key_scalar(ld, v[L_ROLE], "role", "a role"))) {
        if (strcmp(role, "server") == 0)
            sp->role = LAUNCH_ROLE_SERVER;
        else if (strcmp(role, "measured") != 0)
            s_problem(ld, v[L_ROLE], "role: '%s' is not a role (expected measured, or server: "
                                     "it only serves network phases)", role);
    }
}

static void s_platforms_section(loader_t *ld, struct experiment *exp, const yaml_node_t *seq)
{
    char buf[64];
    if (seq->type != YAML_SEQUENCE_NODE) {
        s_problem(ld, seq, "'platforms' must be a list of platform kinds (%s) or maps of "
                           "settings (found %s)", "native, docker, qemu, kvm", s_found(seq, buf, sizeof buf));
        return;
    }
    const yaml_node_item_t *it = seq->data.sequence.items.start;
    size_t n = (size_t)(seq->data.sequence.items.top - it);
    if (n == 0) {
        s_problem(ld, seq, "platforms: the list is empty");
        return;
    }
    if (!(exp->platforms = calloc(n, sizeof *exp->platforms))) {
        s_problem(ld, seq, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = s_node(ld, it[i]);
        struct launch_spec *sp = &exp->platforms[exp->nplatforms];
        s_platform(ld, item, sp);
        if (!sp->name) {
            launch_spec_free(sp);
            continue;
        }
        exp->nplatforms++;
        for (size_t j = 0; j + 1 < exp->nplatforms; j++)
            if (strcmp(exp->platforms[j].name, sp->name) == 0) {
                s_problem(ld, item, "platforms: '%s' is listed twice (first at line %d); give "
                                    "the second a name of its own and 'kind: %s'",
                          sp->name, exp->platforms[j].line, sp->kind ? sp->kind : sp->name);
                break;
            }
    }
}

/* --- expectations -------------------------------------------------------- */

/* Characters (not bytes) of UTF-8 text, as libyaml counts columns. */
static size_t s_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* File position of character col of a scalar's text: exact for a plain or
 * quoted scalar on one line without escapes, which expectations are. */
static void s_scalar_pos(const yaml_node_t *n, size_t col, int *line, int *column)
{
    bool quoted = n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                  n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    *line = (int)n->start_mark.line + 1;
    *column = (int)n->start_mark.column + 1 + (quoted ? 1 : 0) + (int)col;
}

/* `expectations:` — a list of "PHASE: EXPR" strings, or of one-key maps
 * PHASE: EXPR (what YAML makes of the same text unquoted).  Parsed here, so
 * that a mistake is reported where it is written; kept as text for the
 * report, which parses them again against the results. */
static void s_expectations(loader_t *ld, struct experiment *exp, const yaml_node_t *seq)
{
    char buf[64];
    if (seq->type != YAML_SEQUENCE_NODE) {
        s_problem(ld, seq, "'expectations' must be a list like [\"cpu: qemu < 0.5 * native\"] "
                           "(found %s)", s_found(seq, buf, sizeof buf));
        return;
    }
    const yaml_node_item_t *it = seq->data.sequence.items.start;
    size_t n = (size_t)(seq->data.sequence.items.top - it);
    if (n == 0)
        return;
    if (!(exp->expectations = calloc(n, sizeof *exp->expectations))) {
        s_problem(ld, seq, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = s_node(ld, it[i]), *key = NULL, *val = item;
        if (item->type == YAML_MAPPING_NODE &&
            item->data.mapping.pairs.top - item->data.mapping.pairs.start == 1) {
            key = s_node(ld, item->data.mapping.pairs.start->key);
            val = s_node(ld, item->data.mapping.pairs.start->value);
        }
        if ((key && key->type != YAML_SCALAR_NODE) || val->type != YAML_SCALAR_NODE) {
            s_problem(ld, item, "each expectation must be a string like \"cpu: qemu < 0.5 * "
                                "native\" (found %s)", s_found(item, buf, sizeof buf));
            continue;
        }
        char text[512];
        if (key)
            snprintf(text, sizeof text, "%s: %s", (const char *)key->data.scalar.value,
                     (const char *)val->data.scalar.value);
        else
            snprintf(text, sizeof text, "%s", (const char *)val->data.scalar.value);
        struct expectation e;
        char err[256];
        size_t col = 0;
        if (expect_parse(text, &e, err, sizeof err, &col) != 0) {
            int line, column;
            size_t klen = key ? s_utf8_len((const char *)key->data.scalar.value) : 0;
            if (key && col <= klen)
                s_scalar_pos(key, col, &line, &column);
            else
                s_scalar_pos(val, key ? (col > klen + 2 ? col - klen - 2 : 0) : col, &line,
                             &column);
            s_problem_at(ld, line, column, "expectation: %s", err);
            continue;
        }
        bool known = false;
        for (size_t p = 0; p < exp->nphases && !known; p++)
            known = exp->phases[p].name && strcmp(exp->phases[p].name, e.phase) == 0;
        if (!known) {
            char names[512] = "";
            size_t used = 0;
            for (size_t p = 0; p < exp->nphases && used < sizeof names; p++)
                if (exp->phases[p].name)
                    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                             used ? ", " : "", exp->phases[p].name);
            s_problem(ld, key ? key : val, "expectation about phase '%s', which this experiment "
                                           "does not have (phases: %s)", e.phase, names);
            continue;
        }
        if (!(exp->expectations[exp->nexpectations] = strdup(text))) {
            s_problem(ld, item, "out of memory");
            continue;
        }
        exp->nexpectations++;
    }
}

static void s_document(loader_t *ld, struct experiment *exp, const yaml_node_t *root)
{
    yaml_node_t *v[T_COUNT] = {0};
    char buf[64];
    const char *s;
    if (root->type != YAML_MAPPING_NODE) {
        s_problem(ld, root, "an experiment must be a map of settings with at least 'name' and "
                            "'phases' (found %s)", s_found(root, buf, sizeof buf));
        return;
    }
    s_map_keys(ld, root, s_top_keys, v);
    if (!v[T_NAME])
        s_problem(ld, root, "missing required key 'name'");
    else if ((s = s_name(ld, v[T_NAME], "name")))
        exp->name = s_strdup(ld, v[T_NAME], s);
    if (v[T_DESCRIPTION] && (s = s_scalar(ld, v[T_DESCRIPTION], "'description'", "a string")))
        exp->description = s_strdup(ld, v[T_DESCRIPTION], s);
    if (v[T_WORKERS])
        s_workers(ld, exp, v[T_WORKERS]);
    if (v[T_SCHEDULE])
        exp->schedule_set = s_schedule(ld, v[T_SCHEDULE], &exp->schedule) == 0;
    long long reps;
    if (v[T_REPS] && s_int(ld, v[T_REPS], "repetitions", 1, REPS_MAX, &reps) == 0)
        exp->reps = (int)reps;
    if (v[T_START_DELAY])
        s_duration(ld, v[T_START_DELAY], "start_delay", NS_PER_MS, 60 * NS_PER_S, "1ms..60s",
                   &exp->start_delay_ns);
    if (v[T_GRACE])
        s_duration(ld, v[T_GRACE], "grace", 0, 3600 * NS_PER_S, "0s..1h", &exp->grace_ns);
    if (v[T_SKEW_TOL])
        s_duration(ld, v[T_SKEW_TOL], "skew_tolerance", 1000, 60 * NS_PER_S, "1us..60s",
                   &exp->skew_tolerance_ns);
    if (v[T_HEARTBEAT])
        s_duration(ld, v[T_HEARTBEAT], "heartbeat", 50 * NS_PER_MS, 60 * NS_PER_S, "50ms..60s",
                   &exp->heartbeat_ns);
    long long missed;
    if (v[T_MISSED] && s_int(ld, v[T_MISSED], "missed_beats", 1, 100, &missed) == 0)
        exp->missed_beats = (int)missed;
    if (v[T_REJOIN])
        s_bool(ld, v[T_REJOIN], "rejoin", &exp->rejoin);
    if (v[T_INTERLEAVE])
        s_bool(ld, v[T_INTERLEAVE], "interleave", &exp->interleave);
    if (v[T_TOOLS])
        s_tools(ld, v[T_TOOLS], &exp->tools, &exp->ntools);
    if (v[T_PLATFORMS])
        s_platforms_section(ld, exp, v[T_PLATFORMS]);
    if (!v[T_PHASES])
        s_problem(ld, root, "missing required key 'phases'");
    else
        s_phases(ld, exp, v[T_PHASES]);
    /* after the phases, whose names expectations refer to */
    if (v[T_EXPECTATIONS])
        s_expectations(ld, exp, v[T_EXPECTATIONS]);
}

/* libyaml reports reader errors (bad UTF-8, control characters) by byte
 * offset only; turn it into a line and column. */
static void s_offset_pos(const char *text, size_t len, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* The byte at a 1-based line and column (columns count bytes here, which
 * is exact for the ASCII that YAML structure is written in), or 0. */
static char s_byte_at(const char *text, size_t len, int line, int col)
{
    size_t i = 0;
    for (int l = 1; l < line && i < len; i++)
        if (text[i] == '\n')
            l++;
    i += (size_t)col - 1;
    return i < len ? text[i] : 0;
}

static void s_syntax_error(loader_t *ld, const yaml_parser_t *p, const char *text, size_t len)
{
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    const char *problem = p->problem ? p->problem : "cannot be parsed";
    if (p->error == YAML_MEMORY_ERROR) {
        s_problem_at(ld, 1, 1, "out of memory while parsing");
    } else if (p->error == YAML_READER_ERROR) {
        s_offset_pos(text, len, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            s_problem_at(ld, line, col, "YAML syntax error: %s (byte 0x%02X)", problem,
                         (unsigned)p->problem_value);
        else
            s_problem_at(ld, line, col, "YAML syntax error: %s", problem);
    } else if (p->error == YAML_SCANNER_ERROR && s_byte_at(text, len, line, col) == '\t') {
        s_problem_at(ld, line, col, "YAML syntax error: %s (a tab: YAML indents with spaces only)",
                     problem);
    } else if (p->context) {
        s_problem_at(ld, line, col, "YAML syntax error: %s (%s at line %d, column %d)", problem,
                     p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    } else {
        s_problem_at(ld, line, col, "YAML syntax error: %s", problem);
    }
}

int experiment_parse(const char *name, const char *text, size_t len, struct experiment **exp_p,
                     FILE *diag)
{
    assert(name && exp_p && (text || len == 0));
    *exp_p = NULL;
    loader_t ld = {.path = name};
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    int have_doc = 0;

    struct experiment *exp = calloc(1, sizeof *exp);
    if (!exp || !(exp->path = strdup(name)) || !(exp->source = malloc(len + 1))) {
        experiment_destroy(&exp);
        if (diag)
            fprintf(diag, "%s: out of memory\n", name);
        return 1;
    }
    if (len)
        memcpy(exp->source, text, len);
    exp->source[len] = '\0';
    exp->schedule = SCHED_LOCKSTEP;
    exp->reps = 1;
    exp->start_delay_ns = 200 * NS_PER_MS;
    exp->grace_ns = 10 * NS_PER_S;
    exp->heartbeat_ns = PROTO_HEARTBEAT_MS * NS_PER_MS;
    exp->missed_beats = PROTO_MISSED_BEATS;
    exp->rejoin = true;

    if (!yaml_parser_initialize(&parser)) {
        s_problem_at(&ld, 1, 1, "out of memory");
        goto done;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)exp->source, len);
    if (!yaml_parser_load(&parser, &doc)) {
        s_syntax_error(&ld, &parser, exp->source, len);
        goto parser_done;
    }
    have_doc = 1;
    ld.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        s_problem_at(&ld, 1, 1, "the file holds no experiment (expected a map with at least "
                                "'name' and 'phases')");
        goto parser_done;
    }
    /* A second document would be silently ignored: say so instead.  A syntax
     * error further on makes everything before it suspect, so stop there. */
    if (!yaml_parser_load(&parser, &extra)) {
        s_syntax_error(&ld, &parser, exp->source, len);
        goto parser_done;
    }
    if (yaml_document_get_root_node(&extra))
        s_problem_at(&ld, (int)extra.start_mark.line + 1, (int)extra.start_mark.column + 1,
                     "a second document starts here; an experiment file holds exactly one");
    yaml_document_delete(&extra);
    s_document(&ld, exp, root);

parser_done:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
done:;
    int n = s_flush(&ld, diag);
    if (n) {
        experiment_destroy(&exp);
        return n;
    }
    *exp_p = exp;
    return 0;
}

int experiment_load(const char *path, struct experiment **exp_p, FILE *diag)
{
    assert(path && exp_p);
    *exp_p = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (diag)
            fprintf(diag, "%s: cannot read: %s\n", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int err = 0;
    for (;;) {
        if (len == cap) {
            char *b = cap >= FILE_MAX_BYTES ? NULL : realloc(buf, cap ? cap * 2 : 4096);
            if (!b) {
                err = cap >= FILE_MAX_BYTES ? EFBIG : ENOMEM;
                break;
            }
            buf = b;
            cap = cap ? cap * 2 : 4096;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                err = errno ? errno : EIO;
            break;
        }
    }
    fclose(f);
    if (err) {
        free(buf);
        if (diag)
            fprintf(diag, "%s: cannot read: %s\n", path, strerror(err));
        return -1;
    }
    int rc = experiment_parse(path, buf ? buf : "", len, exp_p, diag);
    free(buf);
    return rc;
}

void experiment_destroy(struct experiment **exp_p)
{
    if (!exp_p || !*exp_p)
        return;
    struct experiment *exp = *exp_p;
    for (size_t i = 0; i < exp->nphases; i++) {
        struct exp_phase *ph = &exp->phases[i];
        for (size_t j = 0; j < ph->nparams; j++) {
            free(ph->keys[j]);
            free(ph->vals[j]);
        }
        free(ph->keys);
        free(ph->vals);
        if (ph->opts)
            bench_opts_destroy(ph->bench, &ph->opts);
        for (size_t j = 0; j < ph->nworkers; j++)
            free(ph->workers[j]);
        free(ph->workers);
        for (size_t j = 0; j < ph->nservers; j++)
            free(ph->servers[j]);
        free(ph->servers);
        free(ph->targets);
        free(ph->reference_for);
        free(ph->name);
    }
    free(exp->phases);
    for (size_t j = 0; j < exp->nplatforms; j++)
        launch_spec_free(&exp->platforms[j]);
    free(exp->platforms);
    for (size_t j = 0; j < exp->ntools; j++)
        free(exp->tools[j]);
    free(exp->tools);
    for (size_t j = 0; j < exp->nexpectations; j++)
        free(exp->expectations[j]);
    free(exp->expectations);
    for (size_t j = 0; j < exp->nexpect_names; j++)
        free(exp->expect_names[j]);
    free(exp->expect_names);
    free(exp->description);
    free(exp->source);
    free(exp->name);
    free(exp->path);
    free(exp);
    *exp_p = NULL;
}
