/* oneshot.c — `lockstep-worker --run BENCH key=value...`: the same plug-in
 * code path as a scheduled repetition (parse, prepare, run, cleanup), minus
 * the coordinator.  The fidelity harness compares its numbers with the
 * reference tools'. */
#include "oneshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clock.h"

static void s_json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void s_print(const struct bench_result *res, int ok, const char *err, int json)
{
    if (!json) {
        if (!ok)
            printf("error %s\n", err);
        for (size_t i = 0; i < res->nmetrics; i++)
            printf("metric %s %.17g %s\n", res->metrics[i].name, res->metrics[i].value,
                   res->metrics[i].unit);
        for (size_t i = 0; i < res->ndetails; i++)
            printf("detail %s %s\n", res->details[i].key, res->details[i].value);
        return;
    }
    printf("{\"status\": \"%s\", \"error\": ", ok ? "ok" : "failed");
    if (ok)
        printf("null");
    else
        s_json_str(err);
    printf(", \"metrics\": {");
    for (size_t i = 0; i < res->nmetrics; i++) {
        printf("%s", i ? ", " : "");
        s_json_str(res->metrics[i].name);
        printf(": %.17g", res->metrics[i].value);
    }
    printf("}, \"details\": {");
    for (size_t i = 0; i < res->ndetails; i++) {
        printf("%s", i ? ", " : "");
        s_json_str(res->details[i].key);
        printf(": ");
        s_json_str(res->details[i].value);
    }
    printf("}}\n");
}

int oneshot_run(const char *bench, char *const *params, int nparams, const char *workdir, int json)
{
    const struct bench_ops *ops = bench_find(bench);
    if (!ops) {
        fprintf(stderr, "lockstep-worker: unknown benchmark '%s' (see 'lockstep list')\n", bench);
        return 2;
    }
    const char **keys = calloc((size_t)nparams + 1, sizeof *keys);
    const char **vals = calloc((size_t)nparams + 1, sizeof *vals);
    char **copies = calloc((size_t)nparams + 1, sizeof *copies);
    int rc = 0;
    for (int i = 0; i < nparams; i++) {
        copies[i] = strdup(params[i]);
        char *eq = strchr(copies[i], '=');
        if (!eq) {
            fprintf(stderr, "lockstep-worker: '%s': expected KEY=VALUE\n", params[i]);
            rc = 2;
            goto out;
        }
        *eq = '\0';
        keys[i] = copies[i];
        vals[i] = eq + 1;
    }
    char err[256];
    void *opts = NULL;
    if (bench_opts_parse(ops, keys, vals, (size_t)nparams, &opts, err, sizeof err) != 0) {
        fprintf(stderr, "lockstep-worker: %s: %s\n", bench, err);
        rc = 2;
        goto out;
    }
    struct bench_result res = { .nmetrics = 0 };
    struct bench_ctx ctx = { .opts = opts, .workdir = workdir, .res = &res };
    int hrc = ops->prepare ? ops->prepare(&ctx) : 0;
    if (hrc == 0) {
        hrc = ops->run(&ctx);
        if (ops->cleanup)
            ops->cleanup(&ctx);
    } else if (ops->cleanup) {
        ops->cleanup(&ctx);
    }
    bench_result_params(&res, ops, opts);
    s_print(&res, hrc == 0, ctx.err[0] ? ctx.err : "benchmark failed", json);
    bench_opts_destroy(ops, &opts);
    rc = hrc == 0 ? 0 : 1;
out:
    for (int i = 0; i < nparams; i++)
        free(copies[i]);
    free(copies);
    free(keys);
    free(vals);
    return rc;
}
