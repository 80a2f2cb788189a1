/* test_monitor.c — naming a peer the coordinator refused after the peer
 * is gone (common/monitor.c): the kernel's tables as text, and the kernel
 * itself on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor.h"

/* /proc/net/tcp as Linux prints it: a header, then one socket a line */
static const char *s_tcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
    /* the listener itself and a live worker: not closed */
    "   0: 0100007F:7170 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "518 1 00000000050dc24b 100 0 0 10 0\n"
    "   1: 0100007F:7170 0300A8C0:AF66 01 00000000:00000000 02:00000A3B 00000000     0        0 "
    "611 1 0000000000000000 20 4 30 10 -1\n"
    /* two we closed: 192.168.0.4 longer ago (less of its wait left) */
    "   2: 0100007F:7170 0400A8C0:AF70 06 00000000:00000000 03:00000200 00000000     0        0 "
    "0 3 0000000000000000\n"
    "   3: 0100007F:7170 030011AC:AF72 06 00000000:00000000 03:00001700 00000000     0        0 "
    "0 3 0000000000000000\n"
    /* another port's: not ours */
    "   4: 0100007F:1F90 050011AC:AF74 06 00000000:00000000 03:00001750 00000000     0        0 "
    "0 3 0000000000000000\n";

static void test_table(void **state)
{
    (void)state;
    char out[64] = "";
    long long best = -1;
    /* port 0x7170: the latest closed is 172.17.0.3 (its TIME_WAIT has the most left) */
    assert_int_equal(monitor_closed_peer_in(s_tcp, 0, 0x7170, out, sizeof out, &best), 1);
    assert_string_equal(out, "172.17.0.3");
    /* a port with nothing closed on it */
    best = -1;
    out[0] = '\0';
    assert_int_equal(monitor_closed_peer_in(s_tcp, 0, 5555, out, sizeof out, &best), 0);
    assert_string_equal(out, "");
    /* a FIN still in flight is later than any TIME_WAIT */
    const char *fin = "   9: 0100007F:7170 0700A8C0:B000 04 00000001:00000000 01:00000014 00000000"
                      "     0        0 0 2 0000000000000000\n";
    best = -1;
    char both[2048];
    snprintf(both, sizeof both, "%s%s", s_tcp, fin);
    assert_int_equal(monitor_closed_peer_in(both, 0, 0x7170, out, sizeof out, &best), 1);
    assert_string_equal(out, "192.168.0.7");
    /* garbage and a truncated table are passed over */
    best = -1;
    assert_int_equal(monitor_closed_peer_in("junk\n   0: 0100007F:7170 04", 0, 0x7170, out,
                                            sizeof out, &best), 0);
}

static void test_table6(void **state)
{
    (void)state;
    /* ::1 and an IPv4-mapped peer of a dual-stack socket */
    const char *t6 =
        "  sl  local_address                         remote_address                        st\n"
        "   0: 00000000000000000000000001000000:7170 00000000000000000000000001000000:AF66 06 "
        "00000000:00000000 03:00000100 00000000     0        0 0 3 0000000000000000\n";
    char out[64] = "";
    long long best = -1;
    assert_int_equal(monitor_closed_peer_in(t6, 1, 0x7170, out, sizeof out, &best), 1);
    assert_string_equal(out, "::1");
    const char *mapped =
        "   0: 00000000000000000000000001000000:7170 0000000000000000FFFF00000F02000A:AF66 06 "
        "00000000:00000000 03:00001800 00000000     0        0 0 3 0000000000000000\n";
    assert_int_equal(monitor_closed_peer_in(mapped, 1, 0x7170, out, sizeof out, &best), 1);
    assert_string_equal(out, "10.0.2.15");
    /* best carries over: an older one in the next table (0x1700 < 0x1800
     * of its wait left) does not win */
    assert_int_equal(monitor_closed_peer_in(s_tcp, 0, 0x7170, out, sizeof out, &best), 0);
    assert_string_equal(out, "10.0.2.15");
}

/* The kernel: a connection to a loopback listener that our side closes
 * first is found by its port, with the peer's address. */
static void test_kernel(void **state)
{
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(ls, 4), 0);
    assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
    unsigned port = ntohs(a.sin_port);
    char out[64] = "";
    assert_int_equal(monitor_closed_peer(port, out, sizeof out), 0);
    int cl = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(cl, (struct sockaddr *)&a, sizeof a), 0);
    int sv = accept(ls, NULL, NULL);
    assert_true(sv >= 0);
    close(sv); /* ours first: FIN_WAIT, then TIME_WAIT once the peer closes */
    assert_int_equal(monitor_closed_peer(port, out, sizeof out), 1);
    assert_string_equal(out, "127.0.0.1");
    close(cl);
    close(ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table6),
        cmocka_unit_test(test_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
