/* test_fsutil.c — fs_rmtree removes a tree depth first, does not follow a
 * symbolic link out of it, treats an absent path as removed, and reports a
 * failure (a directory it may not empty, a mount inside the tree) with errno
 * instead of hiding it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"

static char s_root[64];

static void s_touch(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
}

static int s_setup(void **state)
{
    (void)state;
    strcpy(s_root, "/tmp/lockstep-fsutil.XXXXXX");
    return mkdtemp(s_root) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/keep", s_root);
    chmod(p, 0755);
    return fs_rmtree(s_root);
}

static void test_removes_tree_not_link_target(void **state)
{
    (void)state;
    char p[512], keep[128], tree[128];
    snprintf(keep, sizeof keep, "%s/outside", s_root);
    assert_int_equal(mkdir(keep, 0755), 0);
    snprintf(p, sizeof p, "%s/precious", keep);
    s_touch(p);

    snprintf(tree, sizeof tree, "%s/tree", s_root);
    assert_int_equal(mkdir(tree, 0755), 0);
    snprintf(p, sizeof p, "%s/a", tree);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/a/b", tree);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/a/b/file", tree);
    s_touch(p);
    snprintf(p, sizeof p, "%s/link", tree);
    assert_int_equal(symlink(keep, p), 0);

    assert_int_equal(fs_rmtree(tree), 0);
    struct stat st;
    assert_int_equal(lstat(tree, &st), -1);
    assert_int_equal(errno, ENOENT);
    snprintf(p, sizeof p, "%s/precious", keep);
    assert_int_equal(lstat(p, &st), 0); /* the link's target is untouched */
}

static void test_absent_is_removed(void **state)
{
    (void)state;
    char p[256];
    snprintf(p, sizeof p, "%s/never-made", s_root);
    assert_int_equal(fs_rmtree(p), 0);
}

/* As root (CI), permissions do not stop a removal; a file system mounted
 * inside the tree does: it is neither crossed nor emptied, and the tree's
 * removal reports that it could not finish. */
static void test_mount_is_not_crossed(void **state)
{
    (void)state;
    char p[512], dir[128];
    snprintf(dir, sizeof dir, "%s/keep", s_root);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(p, sizeof p, "%s/mnt", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    if (mount("lockstep-test", p, "tmpfs", 0, "size=1m") != 0) {
        print_message("skipped: cannot mount a tmpfs here: %s\n", strerror(errno));
        skip();
    }
    snprintf(p, sizeof p, "%s/mnt/inside", dir);
    s_touch(p);
    errno = 0;
    int rc = fs_rmtree(dir);
    int err = errno;
    struct stat st;
    int inside = lstat(p, &st);
    snprintf(p, sizeof p, "%s/mnt", dir);
    umount(p);
    assert_int_equal(rc, -1);
    assert_int_equal(err, ENOTEMPTY);
    assert_int_equal(inside, 0); /* the mounted file system kept its file */
}

static void test_failure_is_reported(void **state)
{
    (void)state;
    if (geteuid() == 0) {
        test_mount_is_not_crossed(state);
        return;
    }
    char p[512], dir[128];
    snprintf(dir, sizeof dir, "%s/keep", s_root);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(p, sizeof p, "%s/file", dir);
    s_touch(p);
    assert_int_equal(chmod(dir, 0555), 0);
    errno = 0;
    assert_int_equal(fs_rmtree(dir), -1);
    assert_int_equal(errno, EACCES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_removes_tree_not_link_target, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_absent_is_removed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_failure_is_reported, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
