/* cmd_image.c — `lockstep image docker|vm|certs DIR`: write the images
 * lockstep's own platforms run the worker in (platform/image_docker.c,
 * platform/image_vm.c) for a deployment that builds them itself, so that
 * the Ansible roles keep no copy of the recipe.  Written anew each time,
 * replacing what is there only when it differs (a role's "changed"). */
#define _GNU_SOURCE /* copy_file_range */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "fsutil.h"
#include "platform/image_docker.h"
#include "platform/image_vm.h"
#include "platform/launch.h"
#include "run/spawn.h"

static const char *s_usage =
    "usage: lockstep image docker DIR [--worker PATH] [--tools LIST] [--base IMAGE]\n"
    "       lockstep image vm DIR [--worker PATH] [--tools LIST] [--kernel VMLINUZ]\n"
    "       lockstep image certs DIR --cert SECRET --server-cert CERT\n"
    "\n"
    "Write what lockstep's own docker, qemu and kvm platforms run the worker in,\n"
    "for hosts that build their images themselves (the Ansible roles):\n"
    "  docker  DIR/Dockerfile and DIR/rootfs/: the worker image's build context\n"
    "          (then: docker build DIR); DIR/tag names its content.  DIR is new,\n"
    "          empty, or such a context: it is replaced as a whole\n"
    "  vm      DIR/vmlinuz-VERSION and DIR/initramfs.cpio: the worker VMs' kernel\n"
    "          and initramfs (an uncompressed cpio newc archive, no secret in it)\n"
    "  certs   DIR/certs.cpio (0600): a worker's CURVE certificates, a cpio to\n"
    "          append to a copy of the initramfs for that worker's VM\n"
    "The worker, its companions beside it (lockstep-forksum), the tools, and the\n"
    "shared libraries and loader of each go in.  A file (docker: DIR) is replaced\n"
    "only when its content differs; the last line printed is changed or unchanged.\n"
    "\n"
    "  -w, --worker PATH       the lockstep-worker to ship (default: $LOCKSTEP_WORKER,\n"
    "                          else the one beside lockstep, else lockstep-worker in PATH)\n"
    "  -t, --tools LIST        comma-separated host programs to ship beside the worker\n"
    "  -b, --base IMAGE        docker: the image to build on (default: scratch)\n"
    "  -k, --kernel VMLINUZ    vm: <root>/boot/vmlinuz-VERSION of an unpacked kernel\n"
    "                          package, its modules in <root>/lib/modules/VERSION\n"
    "                          (default: $LOCKSTEP_KERNEL, else the newest under\n"
    "                          " IMAGE_VM_KERNEL_CACHE ")\n"
    "  -c, --cert SECRET       certs: the worker's secret certificate\n"
    "  -s, --server-cert CERT  certs: the coordinator's public certificate\n"
    "  -h, --help              this help\n";

struct s_args {
    const char *kind, *dir, *worker, *tools, *base, *kernel, *cert, *server_cert;
};

/* Say what is wrong with the command line; -1. */
__attribute__((format(printf, 1, 2))) static int s_bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lockstep image: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

/* Options that belong to another kind are refused, not ignored. */
static int s_check_args(const struct s_args *a)
{
    bool docker = !strcmp(a->kind, "docker"), vm = !strcmp(a->kind, "vm"),
         certs = !strcmp(a->kind, "certs");
    if (!docker && !vm && !certs)
        return s_bad("unknown image '%s': expected docker, vm or certs", a->kind);
    if (a->base && !docker)
        return s_bad("--base is for docker images, not %s", a->kind);
    if (a->kernel && !vm)
        return s_bad("--kernel is for vm images, not %s", a->kind);
    if ((a->cert || a->server_cert) && !certs)
        return s_bad("--cert and --server-cert are for certs, not %s (the shared initramfs "
                     "holds no secret)", a->kind);
    if (certs && (a->worker || a->tools))
        return s_bad("--worker and --tools are for docker and vm images, not certs");
    if (certs && (!a->cert || !a->server_cert))
        return s_bad("certs: give both --cert SECRET and --server-cert CERT");
    const char *files[] = { a->cert, a->server_cert };
    for (size_t i = 0; i < 2; i++)
        if (files[i] && access(files[i], R_OK) != 0)
            return s_bad("%s %s: %s", i ? "--server-cert" : "--cert", files[i], strerror(errno));
    if (a->worker && access(a->worker, X_OK) != 0)
        return s_bad("--worker %s: %s", a->worker, strerror(errno));
    if (a->tools && !*a->tools)
        return s_bad("--tools: no program named");
    return 0;
}

static int s_parse(int argc, char **argv, struct s_args *a)
{
    static const struct option longopts[] = {
        { "worker", required_argument, NULL, 'w' }, { "tools", required_argument, NULL, 't' },
        { "base", required_argument, NULL, 'b' },   { "kernel", required_argument, NULL, 'k' },
        { "cert", required_argument, NULL, 'c' },   { "server-cert", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
    };
    const char **slot[128] = { ['w'] = &a->worker, ['t'] = &a->tools, ['b'] = &a->base,
                               ['k'] = &a->kernel, ['c'] = &a->cert, ['s'] = &a->server_cert };
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "w:t:b:k:c:s:h", longopts, NULL)) != -1) {
        if (ch == 'h') {
            fputs(s_usage, stdout);
            return 1;
        }
        if (ch < 0 || ch >= 128 || !slot[ch]) {
            fputs("lockstep image: see 'lockstep image --help'\n", stderr);
            return -1;
        }
        *slot[ch] = optarg;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "lockstep image: give the kind of image (docker, vm or certs) and a "
                        "directory\n%s", s_usage);
        return -1;
    }
    a->kind = argv[optind];
    a->dir = argv[optind + 1];
    if (!*a->dir)
        return s_bad("the directory is an empty string");
    return s_check_args(a);
}

/* ---- replacing what differs ---- */

/* Do files a and b hold the same bytes?  A missing b differs. */
static bool s_same(const char *a, const char *b)
{
    FILE *fa = fopen(a, "re"), *fb = fopen(b, "re");
    bool same = fa && fb;
    char ba[65536], bb[65536];
    while (same) {
        size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
        same = na == nb && memcmp(ba, bb, na) == 0;
        if (na < sizeof ba)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

/* Move new over dest when they differ (*changed then), else drop it. */
static int s_install(const char *new, const char *dest, bool *changed)
{
    if (s_same(new, dest)) {
        unlink(new);
        return 0;
    }
    if (rename(new, dest) != 0) {
        fprintf(stderr, "lockstep image: %s: %s\n", dest, strerror(errno));
        unlink(new);
        return -1;
    }
    *changed = true;
    return 0;
}

/* A copy of src at dst (mode 0644), through the kernel's copy. */
static int s_copy(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ssize_t n = 1;
    while (in >= 0 && out >= 0 && n > 0)
        n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
    int rc = in >= 0 && out >= 0 && n == 0 ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "lockstep image: copying %s to %s: %s\n", src, dst, strerror(errno));
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0 && rc == 0) {
        fprintf(stderr, "lockstep image: writing %s: %s\n", dst, strerror(errno));
        rc = -1;
    }
    return rc;
}

/* The first line of DIR/tag, the image a context of ours holds; "" when
 * there is none. */
static void s_read_tag(const char *dir, char *buf, size_t len)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/tag", dir);
    FILE *f = fopen(path, "re");
    buf[0] = '\0';
    if (f && !fgets(buf, (int)len, f))
        buf[0] = '\0';
    if (f)
        fclose(f);
}

/* ---- the kinds ---- */

/* The worker and tools as the launchers take them. */
struct s_ctx {
    struct launch_env env;
    struct launch_spec spec;
    char worker[PATH_MAX];
    char *list;      /* the tools' names, split in place */
    char *tools[64];
};

static int s_ctx_init(const struct s_args *a, struct s_ctx *c)
{
    memset(c, 0, sizeof *c);
    c->env.worker_bin = a->worker ? a->worker : spawn_worker_path(c->worker, sizeof c->worker);
    if (access(c->env.worker_bin, X_OK) != 0 &&
        launch_which(c->env.worker_bin, c->worker, sizeof c->worker) == 0)
        c->env.worker_bin = c->worker;
    if (access(c->env.worker_bin, X_OK) != 0)
        return s_bad("no worker to ship: %s: %s (give --worker PATH)", c->env.worker_bin,
                     strerror(errno));
    c->spec.name = "image";
    c->spec.image = a->base && strcmp(a->base, "scratch") != 0 ? (char *)a->base : NULL;
    c->spec.kernel = (char *)a->kernel;
    c->spec.tools = c->tools;
    c->list = a->tools ? strdup(a->tools) : NULL;
    char *save = NULL;
    for (char *t = c->list ? strtok_r(c->list, ",", &save) : NULL; t;
         t = strtok_r(NULL, ",", &save)) {
        if (c->spec.ntools == sizeof c->tools / sizeof c->tools[0]) {
            free(c->list);
            return s_bad("--tools: more than %zu programs", c->spec.ntools);
        }
        c->tools[c->spec.ntools++] = t;
    }
    return 0;
}

/* DIR/tag holds the content's hash: the same tag, the same context. */
static int s_docker(const struct s_args *a, struct s_ctx *c, bool *changed)
{
    char err[PATH_MAX + 256], tag[80] = "", path[PATH_MAX], tmp[PATH_MAX];
    struct image_docker *im = calloc(1, sizeof *im);
    if (!im || image_docker_plan(&c->env, &c->spec, im, err, sizeof err) != 0) {
        fprintf(stderr, "lockstep image docker: %s\n", im ? err : "out of memory");
        free(im);
        return EXIT_INVALID;
    }
    s_read_tag(a->dir, tag, sizeof tag);
    snprintf(path, sizeof path, "%s/Dockerfile", a->dir);
    if (strcmp(tag, im->tag) == 0 && access(path, R_OK) == 0) {
        free(im);
        return EXIT_OK;
    }
    /* made beside DIR, then put in its place */
    snprintf(tmp, sizeof tmp, "%s.new", a->dir);
    snprintf(path, sizeof path, "%s.new/tag", a->dir);
    int rc = fs_rmtree(tmp);
    if (rc != 0)
        snprintf(err, sizeof err, "cannot remove %s: %s", tmp, strerror(errno));
    else
        rc = image_docker_context(&c->env, im, tmp, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "lockstep image docker: %s\n", err);
    FILE *f = NULL;
    if (rc == 0 && (!(f = fopen(path, "we")) || fputs(im->tag, f) < 0 || fclose(f) != 0)) {
        fprintf(stderr, "lockstep image docker: cannot write %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && (fs_rmtree(a->dir) != 0 || rename(tmp, a->dir) != 0)) {
        fprintf(stderr, "lockstep image docker: cannot replace %s: %s\n", a->dir,
                strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        fs_rmtree(tmp);
    free(im);
    *changed = rc == 0;
    return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

/* The kernel and the initramfs, each replaced only when it differs. */
static int s_vm(const struct s_args *a, struct s_ctx *c, bool *changed)
{
    char err[1024], init[PATH_MAX], tools[8192], path[PATH_MAX], new[PATH_MAX + 8];
    struct image_vm_kernel k;
    if (launch_tools(&c->env, &c->spec, tools, sizeof tools, err, sizeof err) != 0 ||
        image_vm_find_init(c->env.worker_bin, init, sizeof init, err, sizeof err) != 0 ||
        image_vm_kernel_find(a->kernel, &k, err, sizeof err) != 0 ||
        image_vm_kernel_modules(&k, err, sizeof err) != 0) {
        fprintf(stderr, "lockstep image vm: %s\n", err);
        return EXIT_INVALID;
    }
    struct image_vm_content content = { .worker = c->env.worker_bin, .init = init,
                                        .tools = tools, .kernel = &k };
    snprintf(path, sizeof path, "%s/initramfs.cpio", a->dir);
    snprintf(new, sizeof new, "%s.new", path);
    int rc = image_vm_initramfs(new, &content, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "lockstep image vm: %s\n", err);
    if (rc == 0)
        rc = s_install(new, path, changed);
    snprintf(path, sizeof path, "%s/vmlinuz-%s", a->dir, k.ver);
    snprintf(new, sizeof new, "%s.new", path);
    if (rc == 0 && (rc = s_copy(k.vmlinuz, new)) == 0)
        rc = s_install(new, path, changed);
    image_vm_kernel_free(&k);
    return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

static int s_certs(const struct s_args *a, bool *changed)
{
    char err[1024], path[PATH_MAX], new[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/certs.cpio", a->dir);
    snprintf(new, sizeof new, "%s.new", path);
    if (image_vm_certs(new, a->cert, a->server_cert, err, sizeof err) != 0) {
        fprintf(stderr, "lockstep image certs: %s\n", err);
        return EXIT_FAIL;
    }
    return s_install(new, path, changed) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* Is dir missing or empty? */
static bool s_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* DIR's parent must be there; vm and certs write into DIR (made when
 * missing), docker replaces it (and so never anything but its own). */
static int s_check_dir(const struct s_args *a)
{
    char parent[PATH_MAX];
    const char *slash = strrchr(a->dir, '/');
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - a->dir) + (slash == a->dir) : 1,
             slash ? a->dir : ".");
    struct stat st;
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
        return s_bad("%s: no directory %s to make it in", a->dir, parent);
    if (stat(a->dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return s_bad("%s is not a directory", a->dir);
    if (strcmp(a->kind, "docker") != 0) {
        if (mkdir(a->dir, 0755) != 0 && errno != EEXIST)
            return s_bad("cannot create %s: %s", a->dir, strerror(errno));
        return 0;
    }
    /* docker replaces DIR whole: only an empty one or a context of ours */
    char line[80];
    s_read_tag(a->dir, line, sizeof line);
    if (strncmp(line, IMAGE_DOCKER_REPO ":", strlen(IMAGE_DOCKER_REPO ":")) == 0 ||
        s_empty(a->dir))
        return 0;
    return s_bad("%s is not empty and holds no context of lockstep image docker (no %s/tag "
                 "naming an image): give a new or empty directory", a->dir, a->dir);
}

int cmd_image(int argc, char **argv)
{
    struct s_args a = { 0 };
    int rc = s_parse(argc, argv, &a);
    if (rc != 0)
        return rc > 0 ? EXIT_OK : EXIT_INVALID;
    if (s_check_dir(&a) != 0)
        return EXIT_INVALID;
    bool changed = false;
    struct s_ctx c;
    if (strcmp(a.kind, "certs") == 0)
        rc = s_certs(&a, &changed);
    else if (s_ctx_init(&a, &c) != 0)
        return EXIT_INVALID;
    else {
        rc = strcmp(a.kind, "docker") == 0 ? s_docker(&a, &c, &changed) : s_vm(&a, &c, &changed);
        free(c.list);
    }
    if (rc == EXIT_OK)
        puts(changed ? "changed" : "unchanged");
    return rc;
}
