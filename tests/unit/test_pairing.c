/* test_pairing.c — target parsing and the pairing plans: every client
 * served once per repetition, no endpoint shared inside a wave, waves when
 * clients outnumber endpoints, fallback order next port then next host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/pairing.h"

static void s_bad(const char *text, const char *msg)
{
    struct pair_target t;
    char err[256];
    assert_int_equal(pair_parse_target(text, &t, err, sizeof err), -1);
    assert_string_equal(err, msg);
}

static void test_parse(void **state)
{
    (void)state;
    struct pair_target t;
    char err[256];
    assert_int_equal(pair_parse_target("bouygues.iperf.fr:5200-5209", &t, err, sizeof err), 0);
    assert_string_equal(t.host, "bouygues.iperf.fr");
    assert_int_equal(t.first, 5200);
    assert_int_equal(t.last, 5209);
    assert_int_equal(pair_parse_target("198.18.0.2:5201", &t, err, sizeof err), 0);
    assert_int_equal(t.first, 5201);
    assert_int_equal(t.last, 5201);
    assert_int_equal(pair_parse_target("[::1]:5201-5202", &t, err, sizeof err), 0);
    assert_string_equal(t.host, "::1");
    s_bad("host", "'host': expected host:port or host:first-last");
    s_bad("host:", "'host:': '' is not a port or a port range first-last");
    s_bad(":5201", "':5201': missing host name");
    s_bad("host:5201-99999", "'host:5201-99999': port 99999 is out of range 1..65535");
    s_bad("host:0", "'host:0': port 0 is out of range 1..65535");
    s_bad("host:5209-5200", "'host:5209-5200': range 5209-5200 runs backwards");
    s_bad("host:52a1", "'host:52a1': '52a1' is not a port or a port range first-last");
    s_bad("::1:5201", "'::1:5201': write an IPv6 address in brackets: [addr]:port");
    s_bad("[::1]5201", "'[::1]5201': expected [address]:port");
}

/* Every endpoint used at most once per wave; every client planned once. */
static void s_check_disjoint(struct pair_slot *s, size_t n)
{
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++) {
            if (s[a].wave != s[b].wave)
                continue;
            char *ca = strdup(s[a].peers), *save = NULL;
            for (char *tok = strtok_r(ca, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *cb = strdup(s[b].peers), *save2 = NULL;
                for (char *t2 = strtok_r(cb, ",", &save2); t2; t2 = strtok_r(NULL, ",", &save2))
                    assert_string_not_equal(tok, t2);
                free(cb);
            }
            free(ca);
        }
}

static void test_public_one_client_fallback_order(void **state)
{
    (void)state;
    struct pair_target t[2];
    char err[64];
    pair_parse_target("a:5201-5203", &t[0], err, sizeof err);
    pair_parse_target("b:5201-5202", &t[1], err, sizeof err);
    struct pair_slot s[1];
    assert_int_equal(pair_plan_public(t, 2, 1, 0, 8, s), 1);
    /* next port, then the next host */
    assert_string_equal(s[0].peers, "a:5201,a:5202,a:5203,b:5201,b:5202");
    pair_slots_free(s, 1);
    assert_int_equal(pair_plan_public(t, 2, 1, 0, 2, s), 1);
    assert_string_equal(s[0].peers, "a:5201,a:5202"); /* bounded attempts */
    pair_slots_free(s, 1);
}

static void test_public_disjoint_and_waves(void **state)
{
    (void)state;
    struct pair_target t[2];
    char err[64];
    pair_parse_target("a:5201-5203", &t[0], err, sizeof err);
    pair_parse_target("[::1]:7000", &t[1], err, sizeof err);
    struct pair_slot s[9];
    /* 9 clients, 4 endpoints: waves of 4, 4, 1 */
    assert_int_equal(pair_plan_public(t, 2, 9, 0, 8, s), 3);
    int per_wave[3] = { 0 };
    for (int i = 0; i < 9; i++)
        per_wave[s[i].wave]++;
    assert_int_equal(per_wave[0], 4);
    assert_int_equal(per_wave[1], 4);
    assert_int_equal(per_wave[2], 1);
    assert_string_equal(s[0].peers, "a:5201");
    assert_string_equal(s[3].peers, "[::1]:7000");
    assert_string_equal(s[8].peers, "a:5201,a:5202,a:5203,[::1]:7000"); /* alone: all of them */
    s_check_disjoint(s, 9);
    pair_slots_free(s, 9);
    /* 2 clients on 4 endpoints: one wave, two candidates each, disjoint */
    assert_int_equal(pair_plan_public(t, 2, 2, 0, 8, s), 1);
    assert_string_equal(s[0].peers, "a:5201,a:5203");
    assert_string_equal(s[1].peers, "a:5202,[::1]:7000");
    s_check_disjoint(s, 2);
    pair_slots_free(s, 2);
    /* round-robin: one client per wave */
    assert_int_equal(pair_plan_public(t, 2, 3, 1, 8, s), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(s[i].wave, i);
    pair_slots_free(s, 3);
}

static void test_public_no_endpoint(void **state)
{
    (void)state;
    struct pair_slot s[1];
    assert_int_equal(pair_plan_public(NULL, 0, 1, 0, 8, s), -1);
}

static void test_local(void **state)
{
    (void)state;
    struct pair_slot s[5];
    /* 5 clients, 2 servers: a server serves one client at a time */
    assert_int_equal(pair_plan_local(2, 5, 0, 0, s), 3);
    int expect_wave[] = { 0, 0, 1, 1, 2 }, expect_server[] = { 0, 1, 0, 1, 0 };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s[i].wave, expect_wave[i]);
        assert_int_equal(s[i].server, expect_server[i]);
        assert_null(s[i].peers);
    }
    assert_int_equal(pair_plan_local(3, 2, 0, 0, s), 1);
    assert_int_equal(pair_plan_local(3, 3, 1, 0, s), 3); /* round-robin */
}

/* Round-robin (one client a wave) uses every server, not server 0 only. */
static void test_local_round_robin_uses_every_server(void **state)
{
    (void)state;
    struct pair_slot s[4];
    assert_int_equal(pair_plan_local(2, 4, 1, 0, s), 4);
    int expect_server[] = { 0, 1, 0, 1 };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(s[i].wave, i);
        assert_int_equal(s[i].server, expect_server[i]);
    }
    /* one client, two servers: the repetitions alternate between them */
    bool used[2] = { false, false };
    for (size_t rep = 0; rep < 2; rep++) {
        assert_int_equal(pair_plan_local(2, 1, 1, rep, s), 1);
        used[s[0].server] = true;
    }
    assert_true(used[0] && used[1]);
}

/* Pairs rotate between repetitions, and the clients of one wave never
 * share a server, whatever the rotation. */
static void test_local_rotation(void **state)
{
    (void)state;
    struct pair_slot s[7];
    for (size_t rot = 0; rot < 6; rot++) {
        int waves = pair_plan_local(3, 7, 0, rot, s);
        assert_int_equal(waves, 3);
        for (int w = 0; w < waves; w++) {
            bool taken[3] = { false, false, false };
            for (int i = 0; i < 7; i++) {
                if (s[i].wave != w)
                    continue;
                assert_false(taken[s[i].server]);
                taken[s[i].server] = true;
            }
        }
        assert_int_equal(s[0].server, (int)(rot % 3));
    }
    int first;
    pair_plan_local(2, 2, 0, 0, s);
    first = s[0].server;
    pair_plan_local(2, 2, 0, 1, s);
    assert_int_not_equal(s[0].server, first);
}

/* Each client reaches a server on the coordinator's host at its own route
 * to that host; any other server where it says. */
static void test_endpoint_as_seen_by_client(void **state)
{
    (void)state;
    /* where the server is */
    assert_true(pair_on_coord_host("127.0.0.1", "127.0.0.1", "127.0.0.1:5201"));
    assert_true(pair_on_coord_host("::1", NULL, NULL));
    assert_true(pair_on_coord_host("192.168.1.10", "192.168.1.10", NULL)); /* its own address */
    assert_false(pair_on_coord_host("172.17.0.1", "172.17.0.2", "172.17.0.2:5201")); /* docker */
    assert_false(pair_on_coord_host("10.0.2.2", "10.0.2.15", "10.0.2.15:5201"));  /* a VM... */
    assert_true(pair_on_coord_host("10.0.2.2", "10.0.2.15", "@:40001"));  /* ...with a forward */
    assert_false(pair_on_coord_host(NULL, "10.1.1.1", NULL)); /* an old worker: unknown */
    /* a native server on the coordinator's host, as each platform reaches it */
    const struct { const char *route, *want; } c[] = {
        { "127.0.0.1", "127.0.0.1:5201" },   /* native */
        { "172.17.0.1", "172.17.0.1:5201" }, /* docker: the bridge gateway */
        { "10.0.2.2", "10.0.2.2:5201" },     /* qemu user networking */
        { "fd00::1", "[fd00::1]:5201" },     /* an IPv6 route */
        { NULL, "127.0.0.1:5201" },          /* a client that does not say: as advertised */
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *ep = pair_endpoint("127.0.0.1:5201", true, c[i].route);
        assert_string_equal(ep, c[i].want);
        free(ep);
    }
    /* a VM serving through the host's forward of port 40001 */
    char *ep = pair_endpoint("@:40001", true, "172.17.0.1");
    assert_string_equal(ep, "172.17.0.1:40001");
    free(ep);
    ep = pair_endpoint("@:40001", true, NULL);
    assert_string_equal(ep, "127.0.0.1:40001");
    free(ep);
    /* a server elsewhere (a lab machine): where it says, for everyone */
    ep = pair_endpoint("192.168.1.20:5201", false, "10.0.2.2");
    assert_string_equal(ep, "192.168.1.20:5201");
    free(ep);
    ep = pair_endpoint("[fd00::20]:5201", false, "127.0.0.1");
    assert_string_equal(ep, "[fd00::20]:5201");
    free(ep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_public_one_client_fallback_order),
        cmocka_unit_test(test_public_disjoint_and_waves),
        cmocka_unit_test(test_public_no_endpoint),
        cmocka_unit_test(test_local),
        cmocka_unit_test(test_local_round_robin_uses_every_server),
        cmocka_unit_test(test_local_rotation),
        cmocka_unit_test(test_endpoint_as_seen_by_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
