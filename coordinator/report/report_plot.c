/* report_plot.c — box plots like the course's figures, drawn by gnuplot: one
 * per phase, a box per platform, as plot-PHASE.svg and plot-PHASE.png.  The
 * data goes inline into plots.gp, which stays beside the figures so that
 * they can be restyled and redrawn with `gnuplot plots.gp`. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

/* A gnuplot string in single quotes: only the quote itself is special. */
static void s_gq(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; s && *s; s++) {
        if (*s == '\'')
            fputc('\'', out);
        if (*s != '\n')
            fputc(*s, out);
    }
    fputc('\'', out);
}

static bool s_have(const struct rphase *ph)
{
    for (size_t g = 0; g < ph->ngroups; g++)
        if (ph->groups[g].n)
            return true;
    return false;
}

static void s_script(const report_t *r, FILE *out)
{
    fputs("# plots.gp — written by `lockstep report`; redraw with: gnuplot plots.gp\n"
          "set style fill solid 0.6 border -1\n"
          "set style boxplot outliers pointtype 7\n"
          "set style data boxplot\n"
          "set boxwidth 0.5\n"
          "set pointsize 0.6\n"
          "set key below horizontal noenhanced\n"
          "set grid ytics lc rgb '#dddddd'\n"
          "set border 3\n"
          "set xtics nomirror scale 0\n"
          "set ytics nomirror\n"
          "set yrange [0:*]\n"
          "png = strstrt(GPVAL_TERMINALS, 'pngcairo') > 0 ? 'pngcairo' : 'png'\n",
          out);
    for (size_t i = 0; i < r->nphases; i++) {
        const struct rphase *ph = &r->phases[i];
        if (!s_have(ph))
            continue;
        fprintf(out, "\n# phase %s\n", ph->name);
        size_t k = 0;
        for (size_t g = 0; g < ph->ngroups; g++) {
            const struct rgroup *gr = &ph->groups[g];
            if (!gr->n)
                continue;
            fprintf(out, "$p%zu_%zu << EOD\n", i, ++k);
            for (size_t j = 0; j < gr->n; j++)
                fprintf(out, "%.17g\n", gr->values[j]);
            fputs("EOD\n", out);
        }
        fputs("set title ", out);
        char t[512];
        snprintf(t, sizeof t, "%s: %s", ph->name, ph->metric);
        s_gq(out, t);
        fputs("\nset ylabel ", out);
        s_gq(out, ph->unit[0] ? ph->unit : ph->metric);
        fprintf(out, "\nset xrange [0.4:%zu.6]\nset xtics (", k);
        k = 0;
        for (size_t g = 0; g < ph->ngroups; g++) {
            if (!ph->groups[g].n)
                continue;
            fputs(k ? ", " : "", out);
            s_gq(out, ph->groups[g].platform);
            fprintf(out, " %zu", ++k);
        }
        fputs(")\n", out);
        fprintf(out, "set terminal svg size 640,400 dynamic noenhanced background rgb 'white' "
                     "font 'sans,12'\nset output 'plot-%s.svg'\nplot ",
                ph->name);
        k = 0;
        for (size_t g = 0; g < ph->ngroups; g++) {
            const struct rgroup *gr = &ph->groups[g];
            if (!gr->n)
                continue;
            k++;
            fprintf(out, "%s$p%zu_%zu using (%zu):1 title ", k > 1 ? ", \\\n     " : "", i, k,
                    k);
            s_gq(out, gr->platform);
            const char *key = report_group(ph, gr->kind) == gr ? gr->kind : gr->platform;
            fprintf(out, " lc rgb '%s'", report_colour(key, g));
        }
        fprintf(out, "\nset terminal @png size 640,400 noenhanced background rgb 'white' "
                     "font 'sans,10'\nset output 'plot-%s.png'\nreplot\nunset output\n",
                ph->name);
    }
}

/* gnuplot on PATH, or NULL. */
static char *s_find_gnuplot(void)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    char *copy = strdup(path), *save = NULL;
    char *found = NULL;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/gnuplot", *d ? d : ".");
        if (access(p, X_OK) == 0)
            found = strdup(p);
    }
    free(copy);
    return found;
}

int report_plots(const report_t *r, const char *dir, char *err, size_t errlen)
{
    bool any = false;
    for (size_t i = 0; i < r->nphases; i++)
        any |= s_have(&r->phases[i]);
    if (!any)
        return 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/plots.gp", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    s_script(r, f);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *gnuplot = s_find_gnuplot();
    if (!gnuplot)
        return 1;
    char log[4096];
    snprintf(log, sizeof log, "%s/plots.log", dir);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start gnuplot: %s", strerror(errno));
        free(gnuplot);
        return -1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int lg = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || lg < 0 || chdir(dir) != 0)
            _exit(126);
        dup2(in, 0);
        dup2(lg, 1);
        dup2(lg, 2);
        execl(gnuplot, "gnuplot", "plots.gp", (char *)NULL);
        _exit(127);
    }
    free(gnuplot);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* the first line gnuplot complained with */
        char line[512] = "";
        FILE *l = fopen(log, "r");
        if (l) {
            char buf[512];
            while (fgets(buf, sizeof buf, l))
                if (strspn(buf, " \t\n^") != strlen(buf)) {
                    snprintf(line, sizeof line, "%s", buf);
                    if (strstr(buf, "line"))
                        break;
                }
            fclose(l);
        }
        line[strcspn(line, "\n")] = '\0';
        snprintf(err, errlen, "gnuplot failed (%s/plots.gp%s%s; full output in %s)", dir,
                 line[0] ? ": " : "", line, log);
        return -1;
    }
    struct stat sb;
    if (stat(log, &sb) == 0 && sb.st_size == 0)
        unlink(log);
    return 0;
}
