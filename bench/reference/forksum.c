/* forksum — the course's fork benchmark, as its assignment describes it, to
 * check lockstep's `fork` against (docs/fidelity.md).  It is deliberately
 * not lockstep code: a plain program like a student's, sharing nothing with
 * bench/forksum.c.  Sum [START, END] by halving the range: each half gets
 * its own pipe and a forked child that sums it the same way and writes its
 * sum and process count back as text lines through stdio; the parent reads
 * both, waits for both and adds them up.  Timed with CLOCK_MONOTONIC around
 * the trees only, as the course's main() does.
 *
 * usage: forksum START END                 one tree, as the course's program
 *        forksum START END --trees N       N trees
 *        forksum START END --time SECONDS  trees until SECONDS have passed
 *
 * Output: the course's "Correct result" and "Number of forks" lines (its
 * count includes the root process), then
 *   trees: N
 *   forks: F        fork() calls, 2 * (END - START) per tree
 *   seconds: S
 *   forks/s: R      F / S, what lockstep's fork reports as forks_per_sec
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct sum {
    long long sum;
    long long procs; /* processes in the subtree, this one included (the course's "num") */
};

static struct sum tree(long long start, long long end);

/* Fork a child summing [start, end]; return the read end of its pipe. */
static int spawn(long long start, long long end)
{
    int fd[2];
    if (pipe(fd) < 0) {
        perror("forksum: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("forksum: fork");
        exit(1);
    }
    if (pid == 0) {
        close(fd[0]);
        struct sum s = tree(start, end);
        FILE *out = fdopen(fd[1], "w");
        if (!out) {
            perror("forksum: fdopen");
            exit(1);
        }
        fprintf(out, "%lld\n%lld\n", s.sum, s.procs);
        exit(0); /* flushes out */
    }
    close(fd[1]);
    return fd[0];
}

static long long read_number(FILE *in, char **line, size_t *cap)
{
    ssize_t n = getline(line, cap, in);
    char *end;
    if (n <= 0) {
        fprintf(stderr, "forksum: a child ended without its result\n");
        exit(1);
    }
    errno = 0;
    long long v = strtoll(*line, &end, 10);
    if (errno || end == *line || (*end != '\n' && *end != '\0')) {
        fprintf(stderr, "forksum: bad line from a child: %s", *line);
        exit(1);
    }
    return v;
}

static struct sum collect(int fd)
{
    FILE *in = fdopen(fd, "r");
    if (!in) {
        perror("forksum: fdopen");
        exit(1);
    }
    char *line = NULL;
    size_t cap = 0;
    struct sum s;
    s.sum = read_number(in, &line, &cap);
    s.procs = read_number(in, &line, &cap);
    free(line);
    fclose(in);
    return s;
}

static struct sum tree(long long start, long long end)
{
    if (start >= end)
        return (struct sum){start, 1};
    long long mid = start + (end - start) / 2;
    int a = spawn(start, mid);
    int b = spawn(mid + 1, end);
    struct sum x = collect(a);
    struct sum y = collect(b);
    for (int i = 0; i < 2; i++) {
        int status;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "forksum: a child failed\n");
            exit(1);
        }
    }
    return (struct sum){x.sum + y.sum, x.procs + y.procs + 1};
}

static long long number(const char *s, const char *what)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 1000000000) {
        fprintf(stderr, "forksum: %s: not a number from 0 to 1000000000: %s\n", what, s);
        exit(2);
    }
    return v;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: forksum START END [--trees N | --time SECONDS]\n");
        return 2;
    }
    long long start = number(argv[1], "START"), end = number(argv[2], "END");
    long long max_trees = 1;
    double max_secs = 0;
    if (argc == 5 && strcmp(argv[3], "--trees") == 0) {
        max_trees = number(argv[4], "--trees");
    } else if (argc == 5 && strcmp(argv[3], "--time") == 0) {
        char *e;
        max_secs = strtod(argv[4], &e);
        if (e == argv[4] || *e || !(max_secs > 0)) {
            fprintf(stderr, "forksum: --time: not a positive number of seconds: %s\n", argv[4]);
            return 2;
        }
        max_trees = 0;
    } else if (argc == 5) {
        fprintf(stderr, "usage: forksum START END [--trees N | --time SECONDS]\n");
        return 2;
    }
    if (start > end || max_trees < 0 || (max_trees == 0 && max_secs == 0)) {
        fprintf(stderr, "forksum: need START <= END and at least one tree\n");
        return 2;
    }

    const long long want = (start + end) * (end - start + 1) / 2;
    long long trees = 0;
    struct sum s = {0, 0};
    fflush(stdout); /* nothing buffered for the children to flush again */
    double t0 = now(), t = t0;
    while ((max_trees == 0 || trees < max_trees) && (max_secs == 0 || t - t0 < max_secs)) {
        s = tree(start, end);
        t = now();
        if (s.sum != want) {
            printf("Wrong result: %lld (should be: %lld)\n", s.sum, want);
            return 1;
        }
        trees++;
    }
    double secs = t - t0;
    long long forks = trees * 2 * (end - start);
    printf("Correct result: %lld\n", s.sum);
    printf("Number of forks: %lld\n", s.procs);
    printf("trees: %lld\nforks: %lld\nseconds: %.6f\n", trees, forks, secs);
    printf("forks/s: %.1f\n", secs > 0 ? (double)forks / secs : 0.0);
    return 0;
}
