/* proc.h — the process runner behind the exec benchmark: fork/exec in a
 * session of its own, pipes read without blocking, a timeout (SIGTERM, then
 * SIGKILL) and a stop flag, bounded output capture, and nothing left running
 * afterwards.  Kept apart from exec.c so that the benchmark reads as what it
 * measures, and the runner as how a program is run and watched.
 */
#ifndef LOCKSTEP_PROC_H
#define LOCKSTEP_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_OUT_MAX (1024 * 1024) /* stdout kept (the rest is counted) */
#define PROC_ERR_TAIL 4096         /* stderr: the last bytes kept */

/* Where the child stopped when it could not exec (PROC_ST_OK: it did). */
enum { PROC_ST_OK, PROC_ST_SETSID, PROC_ST_CHDIR, PROC_ST_DUP, PROC_ST_EXEC };
/* Why the watch ended. */
enum { PROC_END_EXIT, PROC_END_TIMEOUT, PROC_END_STOP };

/* What the child writes on its report pipe when it cannot exec: one write
 * of 8 bytes, so it arrives whole.  Nothing arrives when exec succeeds: the
 * pipe is close-on-exec and the parent reads EOF. */
struct proc_report {
    int32_t stage;
    int32_t errnum;
};

/* One run of a program; calloc it (it is large), then proc_run. */
struct proc {
    pid_t pid;
    int pidfd;                 /* -1 when the kernel has no pidfd_open */
    int out_fd, err_fd, rep_fd; /* -1 once at EOF */
    char *out;                 /* the first PROC_OUT_MAX bytes, NUL-terminated; caller frees */
    size_t out_len, out_cap;
    unsigned long long out_total;
    char err_ring[PROC_ERR_TAIL]; /* the last bytes of stderr */
    unsigned long long err_total;
    struct proc_report rep;
    size_t rep_len;
    int64_t t0, t_end;
    int ended_by;  /* PROC_END_* */
    bool hard;     /* SIGKILL was sent */
    bool exited;   /* seen with WNOWAIT: a zombie, its pid still reserved */
    bool lost;     /* reaped by someone else: status unknown */
    int status;
    char scratch[65536];
    char tail[3 * PROC_ERR_TAIL + 1];
    char shown[256];
};

/* What to run. */
struct proc_spec {
    char *const *argv;
    char *const *cands;              /* from proc_candidates */
    const char *dir;                 /* working directory, or NULL */
    int64_t timeout_ns;
    volatile sig_atomic_t *stop;     /* may be NULL */
};

/* execvp's PATH search for prog, done before fork because the child may not
 * allocate: the paths to try, NULL-terminated, one block (free it); NULL
 * when out of memory. */
char **proc_candidates(const char *prog);

/* Start the program, watch it until it ends, times out or is stopped, kill
 * what it left in its group and reap it.  0 when it was started (pr says
 * how it ended), or -1 with a message in err when it could not be (pipes,
 * fork).  pr->out is NUL-terminated when not NULL. */
int proc_run(struct proc *pr, const struct proc_spec *spec, char *err, size_t errlen);

/* The end of stderr as one line that fits in len bytes: blanks at the end
 * dropped, line breaks shown as " | ", cut at a character boundary, "..."
 * in front when cut.  Points into pr. */
const char *proc_err_tail(struct proc *pr, size_t len);

#endif
