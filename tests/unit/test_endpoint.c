/* test_endpoint.c — --bind read strictly (endpoint.c): canonical forms,
 * loopback or not, and the reason for every malformed endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "run/endpoint.h"

static void s_ok(const char *arg, const char *canon, int port, bool loopback)
{
    struct endpoint ep;
    char err[512] = "";
    if (endpoint_parse(arg, &ep, err, sizeof err) != 0)
        fail_msg("%s: %s", arg, err);
    assert_string_equal(ep.canon, canon);
    assert_int_equal(ep.port, port);
    assert_int_equal(ep.loopback, loopback);
}

static void s_bad(const char *arg, const char *why)
{
    struct endpoint ep;
    char err[512] = "";
    assert_int_equal(endpoint_parse(arg, &ep, err, sizeof err), -1);
    if (!strstr(err, why))
        fail_msg("%s: '%s' does not say '%s'", arg, err, why);
}

static void test_good(void **state)
{
    (void)state;
    s_ok("tcp://127.0.0.1:5555", "tcp://127.0.0.1:5555", 5555, true);
    s_ok("tcp://127.8.9.10:1", "tcp://127.8.9.10:1", 1, true);
    s_ok("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", 0, true);
    s_ok("tcp://127.0.0.1:0", "tcp://127.0.0.1:*", 0, true);
    s_ok("tcp://10.1.2.3:65534", "tcp://10.1.2.3:65534", 65534, false);
    s_ok("tcp://*:5555", "tcp://*:5555", 5555, false);
    s_ok("tcp://0.0.0.0:5555", "tcp://0.0.0.0:5555", 5555, false);
    s_ok("tcp://[::1]:5555", "tcp://[::1]:5555", 5555, true);
    s_ok("tcp://[0:0:0:0:0:0:0:1]:5555", "tcp://[::1]:5555", 5555, true);
    s_ok("tcp://[fe80::1]:5555", "tcp://[fe80::1]:5555", 5555, false);
    s_ok("tcp://localhost:5555", "tcp://127.0.0.1:5555", 5555, true);
}

static void test_bad(void **state)
{
    (void)state;
    s_bad("garbage", "only TCP endpoints");
    s_bad("ipc:///tmp/x", "only TCP endpoints");
    s_bad("tcp://127.0.0.1", "no port");
    s_bad("tcp://:5555", "no address before the port");
    s_bad("tcp://127.0.0.1:", "'' is not a port");
    s_bad("tcp://127.0.0.1:5555x", "'5555x' is not a port");
    s_bad("tcp://127.0.0.1:-1", "'-1' is not a port");
    s_bad("tcp://127.0.0.1:99999", "port 99999 is out of range: 1 to 65534");
    s_bad("tcp://127.0.0.1:65535", "the PUB socket takes the next port, 65536");
    s_bad("tcp://127.0.0.1:123456", "is not a port");
    s_bad("tcp://[::1:5555", "closing bracket");
    s_bad("tcp://[nope]:5555", "'[nope]' is not an IPv6 address");
    s_bad("tcp://::1:5555", "an IPv6 address goes in brackets");
    s_bad("tcp://no-such-host.invalid:5555", "host name 'no-such-host.invalid' does not resolve");
    s_bad("tcp://[*]:5555", "is not an IPv6 address");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
