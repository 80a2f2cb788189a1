/* spool.c — one file per unacknowledged result, named run-phase-rep.res.
 * Written to a temporary name, fsynced, renamed, and the directory fsynced,
 * so a crash leaves either the whole result or none of it. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"

int spool_init(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "spool %s: cannot create %s: %s", dir, path, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
        return -1;
    }
    if (access(path, W_OK) != 0) {
        snprintf(err, errlen, "spool %s: not writable: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

static void s_name(char *buf, size_t len, const char *dir, int64_t run, int phase, int rep,
                   const char *suffix)
{
    snprintf(buf, len, "%s/%016" PRIx64 "-%05d-%06d.res%s", dir, (uint64_t)run, phase, rep, suffix);
}

int spool_put(const char *dir, int64_t run, int phase, int rep, const void *data, size_t len,
              char *err, size_t errlen)
{
    char tmp[4096], final[4096];
    s_name(tmp, sizeof tmp, dir, run, phase, rep, ".tmp");
    s_name(final, sizeof final, dir, run, phase, rep, "");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, final) != 0) {
        snprintf(err, errlen, "%s: %s", final, strerror(errno));
        unlink(tmp);
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int spool_del(const char *dir, int64_t run, int phase, int rep)
{
    char path[4096];
    s_name(path, sizeof path, dir, run, phase, rep, "");
    return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

static int s_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int s_is_result(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && strcmp(e->d_name + n - 4, ".res") == 0;
}

int spool_each(const char *dir, int64_t run, void (*fn)(const void *data, size_t len, void *arg),
               void *arg)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%016" PRIx64 "-", (uint64_t)run);
    struct dirent **list = NULL;
    int n = scandir(dir, &list, s_is_result, s_cmp);
    if (n < 0)
        return 0;
    int done = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
        bool mine = strncmp(list[i]->d_name, prefix, strlen(prefix)) == 0;
        free(list[i]);
        if (!mine)
            continue;
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        char *buf = malloc(PROTO_MAX_FRAME);
        size_t len = fread(buf, 1, PROTO_MAX_FRAME, f);
        fclose(f);
        if (len > 0) {
            fn(buf, len, arg);
            done++;
        }
        free(buf);
    }
    free(list);
    return done;
}
