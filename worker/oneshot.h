/* oneshot.h — run one benchmark once in this process, without a
 * coordinator: for the fidelity harness and for trying options by hand. */
#ifndef LOCKSTEP_ONESHOT_H
#define LOCKSTEP_ONESHOT_H

/* params: "key=value" strings.  Prints one line per metric and detail
 * ("metric NAME VALUE UNIT", "detail KEY VALUE"), or with json a single
 * JSON object.  Returns an exit status: 0 ok, 2 bad options, 1 failed. */
int oneshot_run(const char *bench, char *const *params, int nparams, const char *workdir,
                int json);

#endif
