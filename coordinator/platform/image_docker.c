/* image_docker.c — the worker's docker image, one recipe: the build
 * context (the worker, its companions and tools under /opt/lockstep, their
 * libraries and loader, and a Dockerfile) and the tag, a hash of all of
 * it.  The docker launcher builds it; `lockstep image docker` writes the
 * same context for the Ansible role. */
#define _GNU_SOURCE
#include "image_docker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closure.h"

static const char *s_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void s_fnv(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= c[i];
        *h *= 0x100000001b3ULL;
    }
}

/* Read src whole, into the hash h and, when dst != NULL, a new file dst. */
static int s_take_file(const char *src, const char *dst, uint64_t *h, char *err, size_t errlen)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1;
    if (in < 0) {
        snprintf(err, errlen, "%s: %s", src, strerror(errno));
        return -1;
    }
    if (dst && (out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755)) < 0) {
        snprintf(err, errlen, "%s: %s", dst, strerror(errno));
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "reading %s: %s", src, strerror(errno));
            rc = -1;
            break;
        }
        if (h)
            s_fnv(h, buf, (size_t)n);
        if (out >= 0 && write(out, buf, (size_t)n) != n) {
            snprintf(err, errlen, "writing %s: %s", dst, strerror(errno ? errno : ENOSPC));
            rc = -1;
            break;
        }
    }
    close(in);
    if (out >= 0 && close(out) != 0 && rc == 0) {
        snprintf(err, errlen, "writing %s: %s", dst, strerror(errno));
        rc = -1;
    }
    return rc;
}

static int s_mkparents(char *path, size_t skip, char *err, size_t errlen);

/* Each path of list (one a line): hashed (after tag), and copied under dir
 * (NULL: hash only) at prefix + its base name (flat) or prefix + its own
 * path. */
static int s_copy_list(const char *list, const char *dir, const char *prefix, bool flat,
                       const char *tag, uint64_t *h, char *err, size_t errlen)
{
    char src[PATH_MAX], dst[PATH_MAX];
    for (const char *p = list; *p; p += strcspn(p, "\n") + 1) {
        snprintf(src, sizeof src, "%.*s", (int)strcspn(p, "\n"), p);
        const char *name = flat ? s_base(src) : src;
        if (snprintf(dst, sizeof dst, "%s%s%s", dir ? dir : "", prefix, name) >= (int)sizeof dst) {
            snprintf(err, errlen, "%s: path too long", src);
            return -1;
        }
        s_fnv(h, tag, strlen(tag));
        s_fnv(h, name, strlen(name) + 1);
        if (dir && !flat && s_mkparents(dst, strlen(dir) + strlen(prefix), err, errlen) != 0)
            return -1;
        if (s_take_file(src, dir ? dst : NULL, h, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Visit the worker and each library: hash them (dir == NULL) or copy them
 * into dir/rootfs/opt/lockstep/{bin,lib}. */
static int s_each_file(const struct launch_env *env, const struct image_docker *im, const char *dir,
                       uint64_t *h, char *err, size_t errlen)
{
    char dst[PATH_MAX];
    snprintf(dst, sizeof dst, "%s/rootfs" IMAGE_DOCKER_ROOT "/bin/lockstep-worker", dir ? dir : "");
    s_fnv(h, "bin/lockstep-worker", sizeof "bin/lockstep-worker");
    if (s_take_file(env->worker_bin, dir ? dst : NULL, h, err, errlen) != 0)
        return -1;
    /* its libraries in IMAGE_DOCKER_ROOT/lib; the tools in IMAGE_DOCKER_ROOT/bin, their
     * libraries where the host has them */
    if (s_copy_list(im->libs, dir, "/rootfs" IMAGE_DOCKER_ROOT "/lib/", true, "lib/", h, err, errlen) != 0 ||
        s_copy_list(im->tools, dir, "/rootfs" IMAGE_DOCKER_ROOT "/bin/", true, "tool/", h, err, errlen) != 0 ||
        s_copy_list(im->tlibs, dir, "/rootfs", false, "", h, err, errlen) != 0)
        return -1;
    return 0;
}

/* Create the directories of path below its first skip bytes (which exist). */
static int s_mkparents(char *path, size_t skip, char *err, size_t errlen)
{
    for (char *slash = strchr(path + skip + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int rc = mkdir(path, 0755);
        int e = errno;
        *slash = '/';
        if (rc != 0 && e != EEXIST) {
            snprintf(err, errlen, "cannot create the directories of %s: %s", path, strerror(e));
            return -1;
        }
    }
    return 0;
}

/* The files, the Dockerfile and the tag.  The same layout serves FROM
 * scratch and FROM a base image: the worker runs through our own
 * interpreter and libraries, whatever the base image holds. */
int image_docker_plan(const struct launch_env *env, const struct launch_spec *spec,
                      struct image_docker *im, char *err, size_t errlen)
{
    const char *base = spec->image ? spec->image : "scratch";
    im->scratch = !spec->image;
    if (launch_tools(env, spec, im->tools, sizeof im->tools, err, errlen) != 0)
        return -1;
    im->tlibs[0] = '\0';
    for (const char *p = im->tools; *p; p += strcspn(p, "\n") + 1) {
        char tool[PATH_MAX];
        snprintf(tool, sizeof tool, "%.*s", (int)strcspn(p, "\n"), p);
        if (closure_add(tool, im->tlibs, sizeof im->tlibs, err, errlen) != 0)
            return -1;
    }
    if (closure_interp(env->worker_bin, im->interp, sizeof im->interp, err, errlen) != 0)
        return -1;
    im->libs[0] = '\0';
    if (im->interp[0] && closure_ldd(env->worker_bin, im->libs, sizeof im->libs, err, errlen) != 0)
        return -1;
    char entry[512];
    if (im->interp[0])
        snprintf(entry, sizeof entry,
                 "[\"" IMAGE_DOCKER_ROOT "/lib/%.200s\", \"--library-path\", \"" IMAGE_DOCKER_ROOT "/lib\", "
                 "\"" IMAGE_DOCKER_ROOT "/bin/lockstep-worker\"]",
                 s_base(im->interp));
    else
        snprintf(entry, sizeof entry, "[\"" IMAGE_DOCKER_ROOT "/bin/lockstep-worker\"]");
    /* the label first: intermediate images of a failed build carry it too,
     * so that `docker image prune --filter label=lockstep=1` finds them */
    char env_lines[2048] = "";
    if (im->tools[0]) {
        /* the tools find their libraries where the host keeps them */
        char dirs[1536] = "";
        for (const char *p = im->tlibs; *p; p += strcspn(p, "\n") + 1) {
            char d[PATH_MAX + 2];
            snprintf(d, sizeof d, "%.*s", (int)strcspn(p, "\n"), p);
            *strrchr(d, '/') = '\0';
            strcat(d, ":");
            if (!strstr(dirs, d) && strlen(dirs) + strlen(d) < sizeof dirs)
                strcat(dirs, d);
        }
        if (dirs[0])
            dirs[strlen(dirs) - 1] = '\0';
        snprintf(env_lines, sizeof env_lines,
                 "ENV PATH=" IMAGE_DOCKER_ROOT "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                 "/sbin:/bin\n%s%s%s",
                 dirs[0] ? "ENV LD_LIBRARY_PATH=" : "", dirs, dirs[0] ? "\n" : "");
    }
    snprintf(im->dockerfile, sizeof im->dockerfile,
             "FROM %s\nLABEL lockstep=1\nCOPY rootfs/ /\n%sENTRYPOINT %s\n", base, env_lines,
             entry);
    uint64_t h = 0xcbf29ce484222325ULL;
    s_fnv(&h, im->dockerfile, strlen(im->dockerfile));
    if (s_each_file(env, im, NULL, &h, err, errlen) != 0)
        return -1;
    snprintf(im->tag, sizeof im->tag, IMAGE_DOCKER_REPO ":%016" PRIx64, h);
    return 0;
}

static int s_mkdirs(const char *ctx, bool scratch, char *err, size_t errlen)
{
    static const char *const dirs[] = { "", "/rootfs", "/rootfs/opt", "/rootfs" IMAGE_DOCKER_ROOT,
                                        "/rootfs" IMAGE_DOCKER_ROOT "/bin", "/rootfs" IMAGE_DOCKER_ROOT "/lib",
                                        "/rootfs/tmp", "/rootfs/var", "/rootfs/var/tmp" };
    size_t n = sizeof dirs / sizeof dirs[0] - (scratch ? 0 : 3);
    char path[PATH_MAX];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s%s", ctx, dirs[i]);
        if (mkdir(path, 0755) != 0) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return -1;
        }
        /* a scratch image has no /tmp of its own: make them as usual */
        if (strstr(dirs[i], "tmp") && chmod(path, 01777) != 0) {
            snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int image_docker_context(const struct launch_env *env, const struct image_docker *im,
                         const char *dir, char *err, size_t errlen)
{
    uint64_t h = 0;
    if (s_mkdirs(dir, im->scratch, err, errlen) != 0 || s_each_file(env, im, dir, &h, err, errlen) != 0)
        return -1;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/Dockerfile", dir);
    FILE *f = fopen(path, "we");
    int rc = 0;
    if (!f || fputs(im->dockerfile, f) < 0)
        rc = -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return rc;
}
