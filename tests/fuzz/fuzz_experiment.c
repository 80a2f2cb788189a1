/* fuzz_experiment.c — libFuzzer target: the experiment loader on arbitrary
 * text.  Every input is loaded or refused with problems reported as
 * "NAME:LINE:COL: message" lines; never a crash, a leak or a hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/experiment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct experiment *exp = NULL;
    char *diag = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&diag, &dlen);
    if (!f)
        return 0;
    int rc = experiment_parse("fuzz.yaml", (const char *)data, size, &exp, f);
    fclose(f);
    if ((rc == 0) != (exp != NULL))
        __builtin_trap(); /* success and an experiment go together */
    if (rc > 0 && strncmp(diag, "fuzz.yaml:", 10) != 0)
        __builtin_trap(); /* every problem names where it is */
    experiment_destroy(&exp);
    free(diag);
    return 0;
}
