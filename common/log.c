/* log.c — timestamped one-line records on stderr, so interleaved output of
 * a coordinator and the workers it spawned can still be told apart. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static char s_who[32] = "lockstep";
static log_level_t s_level = LOGL_INFO;

void log_init(const char *who, log_level_t level)
{
    snprintf(s_who, sizeof s_who, "%s", who);
    s_level = level;
}

log_level_t log_level(void) { return s_level; }

void log_msg(log_level_t level, const char *fmt, ...)
{
    static const char *names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
    if (level > s_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char line[1024];
    int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld %-5s [%s] ", tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, names[level], s_who);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* one write per record keeps lines from several processes whole */
    size_t len = strnlen(line, sizeof line - 2);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
