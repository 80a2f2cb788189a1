/* image_docker.h — the worker's docker image, one recipe: what goes into
 * it, its Dockerfile and its tag (a hash of all of it), and the build
 * context on disk.  The docker launcher builds and reuses it; `lockstep
 * image docker` writes the same context for the Ansible role. */
#ifndef LOCKSTEP_IMAGE_DOCKER_H
#define LOCKSTEP_IMAGE_DOCKER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "launch.h"

#define IMAGE_DOCKER_REPO "lockstep-worker"
#define IMAGE_DOCKER_ROOT "/opt/lockstep" /* where the image keeps bin/ and lib/ */

/* What goes into the image: the worker, then its libraries; the tools
 * (IMAGE_DOCKER_ROOT/bin) with their libraries where the host has them, so
 * that they run as on the host whatever the worker's own loader does. */
struct image_docker {
    char libs[16384];      /* closure_ldd's list, one path a line; "" when static */
    char interp[PATH_MAX]; /* "" when static */
    char tools[8192];      /* launch_tools's list */
    char tlibs[16384];     /* the tools' libraries, interpreters included */
    char dockerfile[4096];
    char tag[64];          /* IMAGE_DOCKER_REPO:<hash of the content> */
    bool scratch;          /* FROM scratch: the context brings /tmp and /var/tmp */
};

/* Plan the image of env->worker_bin with spec's tools, FROM spec->image
 * (NULL: scratch).  0, or -1 with a message (a missing tool or library). */
int image_docker_plan(const struct launch_env *env, const struct launch_spec *spec,
                      struct image_docker *im, char *err, size_t errlen);
/* Write the build context into dir, which must not exist yet: dir/Dockerfile
 * and dir/rootfs/.  0, or -1 with a message (dir may then be half made). */
int image_docker_context(const struct launch_env *env, const struct image_docker *im,
                         const char *dir, char *err, size_t errlen);

#endif
