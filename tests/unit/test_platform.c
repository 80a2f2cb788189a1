/* test_platform.c — platform detection from fabricated evidence: a fake
 * file tree for /.dockerenv, cgroups and DMI, and a given CPUID answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "platform.h"

static char s_root[256];

static void s_write(const char *rel, const char *text)
{
    char path[512], dir[512];
    snprintf(path, sizeof path, "%s%s", s_root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + strlen(s_root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0700);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_root, sizeof s_root, "/tmp/lockstep-platform-XXXXXX");
    assert_non_null(mkdtemp(s_root));
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_root);
    return system(cmd);
}

static const char *s_detect(bool hv, const char *sig, char *why)
{
    struct platform_probe p = { .root = s_root, .hypervisor = hv };
    snprintf(p.signature, sizeof p.signature, "%s", sig);
    return platform_detect(&p, why, 160);
}

static void test_native(void **state)
{
    (void)state;
    char why[160];
    s_write("/proc/1/cgroup", "0::/init.scope\n");
    assert_string_equal(s_detect(false, "", why), "native");
    assert_string_equal(why, "no hypervisor bit, no container marks");
}

static void test_dockerenv(void **state)
{
    (void)state;
    char why[160];
    s_write("/.dockerenv", "");
    assert_string_equal(s_detect(true, "KVMKVMKVM", why), "docker");
    assert_string_equal(why, "/.dockerenv present");
}

static void test_cgroup_v1(void **state)
{
    (void)state;
    char why[160];
    s_write("/proc/1/cgroup", "12:memory:/docker/0123abcd\n0::/\n");
    assert_string_equal(s_detect(false, "", why), "docker");
}

static void test_docker_mounts(void **state)
{
    (void)state;
    char why[160];
    s_write("/proc/1/cgroup", "0::/\n");
    s_write("/proc/self/mountinfo",
            "612 590 0:52 /var/lib/docker/containers/ab/hostname /etc/hostname rw\n");
    assert_string_equal(s_detect(false, "", why), "docker");
}

static void test_kvm(void **state)
{
    (void)state;
    char why[160];
    s_write("/sys/class/dmi/id/sys_vendor", "QEMU\n");
    assert_string_equal(s_detect(true, "KVMKVMKVM", why), "kvm");
    assert_string_equal(why, "CPUID hypervisor signature KVMKVMKVM");
}

static void test_tcg_signature(void **state)
{
    (void)state;
    char why[160];
    assert_string_equal(s_detect(true, "TCGTCGTCGTCG", why), "qemu");
}

static void test_qemu_by_dmi(void **state)
{
    (void)state;
    char why[160];
    s_write("/sys/class/dmi/id/sys_vendor", "QEMU\n");
    assert_string_equal(s_detect(true, "", why), "qemu");
    assert_string_equal(s_detect(false, "", why), "qemu");
    assert_string_equal(why, "DMI vendor QEMU without a KVM signature");
}

static void test_other_hypervisor(void **state)
{
    (void)state;
    char why[160];
    s_write("/sys/class/dmi/id/sys_vendor", "VMware, Inc.\n");
    assert_string_equal(s_detect(true, "VMwareVMware", why), "vm");
    assert_non_null(strstr(why, "VMwareVMware"));
}

static void test_host_facts(void **state)
{
    (void)state;
    struct host_facts f;
    host_facts_get(&f);
    assert_true(f.cores >= 1);
    assert_true(f.mem_bytes > 64LL * 1024 * 1024);
    assert_true(strlen(f.hostname) > 0);
    assert_true(strncmp(f.kernel, "Linux ", 6) == 0);
    assert_true(strlen(f.platform) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_native, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dockerenv, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cgroup_v1, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_docker_mounts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_kvm, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tcg_signature, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_qemu_by_dmi, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_other_hypervisor, s_setup, s_teardown),
        cmocka_unit_test(test_host_facts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
