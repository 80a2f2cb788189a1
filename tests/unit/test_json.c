/* test_json.c — common/json.c: documents loaded through jansson with a
 * message that names what is wrong and where, RFC 6901 pointers (parsing,
 * escapes, indexes, bounds) and the typed getters iperf's report is read
 * with, including what they answer for absent values and wrong types.
 * (The exec scanner, json_scan.c, is tested through the plug-in in
 * test_exec and fuzzed by fuzz_json.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

static json_t *s_load(const char *text)
{
    char err[256] = "";
    json_t *root = ljson_load(text, strlen(text), err, sizeof err);
    if (!root)
        fail_msg("'%s' refused: %s", text, err);
    return root;
}

static void s_refused(const char *text, size_t len, const char *want)
{
    char err[256] = "";
    json_t *root = ljson_load(text, len, err, sizeof err);
    assert_null(root);
    if (strcmp(err, want) != 0)
        print_message("input '%.60s'\ngot  '%s'\nwant '%s'\n", text, err, want);
    assert_string_equal(err, want);
}

static void test_pointer_parse(void **state)
{
    (void)state;
    struct ljson_ptr p;
    assert_int_equal(ljson_ptr_parse("", &p), 0);
    assert_int_equal(p.n, 0);
    assert_int_equal(ljson_ptr_parse("/a~1b/m~0n//0/01/-/12", &p), 0);
    assert_int_equal(p.n, 7);
    assert_string_equal(p.tok[0], "a/b");
    assert_string_equal(p.tok[1], "m~n");
    assert_string_equal(p.tok[2], "");
    assert_int_equal(p.len[2], 0);
    assert_int_equal(p.idx[3], 0);
    assert_int_equal(p.idx[4], -1); /* a leading zero is a key, not an index */
    assert_int_equal(p.idx[5], -1); /* "-" is past the end */
    assert_int_equal(p.idx[6], 12);
    static const char *const bad[] = {"a/b", "/a~2", "/a~", "~0", "#/a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ljson_ptr_parse(bad[i], &p), -1);
    /* the bounds: 64 steps, 1024 bytes */
    char deep[2 * LJSON_PTR_MAX_TOKENS + 3];
    for (int i = 0; i < LJSON_PTR_MAX_TOKENS + 1; i++)
        memcpy(deep + 2 * i, "/a", 2);
    deep[2 * LJSON_PTR_MAX_TOKENS + 2] = '\0';
    assert_int_equal(ljson_ptr_parse(deep, &p), -1);
    deep[2 * LJSON_PTR_MAX_TOKENS] = '\0';
    assert_int_equal(ljson_ptr_parse(deep, &p), 0);
    char *big = malloc(LJSON_PTR_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, 'x', LJSON_PTR_MAX_BYTES + 1);
    big[0] = '/';
    big[LJSON_PTR_MAX_BYTES] = '\0';
    assert_int_equal(ljson_ptr_parse(big, &p), 0);
    big[LJSON_PTR_MAX_BYTES] = 'x';
    big[LJSON_PTR_MAX_BYTES + 1] = '\0';
    assert_int_equal(ljson_ptr_parse(big, &p), -1);
    free(big);
}

static void test_get(void **state)
{
    (void)state;
    json_t *root = s_load(
        "{\"end\": {\"sum_sent\": {\"bits_per_second\": 9412345678.5, \"retransmits\": 3},"
        " \"streams\": [{\"receiver\": {\"bits_per_second\": 1e9}}, {}]},"
        " \"start\": {\"connected\": [{\"remote_host\": \"10.0.2.2\"}]},"
        " \"a/b\": {\"m~n\": 7}, \"\": {\"x\": 3}, \"s\": \"12\", \"t\": true, \"n\": null,"
        " \"caf\xc3\xa9\": -0.5, \"kz\": 1}");
    double x = 0;
    assert_true(ljson_number(root, "/end/sum_sent/bits_per_second", &x));
    assert_true(x == 9412345678.5);
    assert_true(ljson_number(root, "/end/sum_sent/retransmits", &x)); /* an integer */
    assert_true(x == 3);
    assert_true(ljson_number(root, "/end/streams/0/receiver/bits_per_second", &x));
    assert_true(x == 1e9);
    assert_true(ljson_number(root, "/a~1b/m~0n", &x));
    assert_true(x == 7);
    assert_true(ljson_number(root, "//x", &x));
    assert_true(x == 3);
    assert_true(ljson_number(root, "/caf\xc3\xa9", &x));
    assert_true(x == -0.5);
    assert_string_equal(ljson_string(root, "/start/connected/0/remote_host"), "10.0.2.2");
    assert_int_equal(json_array_size(ljson_get(root, "/end/streams")), 2);
    assert_ptr_equal(ljson_get(root, ""), root);

    /* absent, past the end, wrong type, malformed pointer: nothing, never a crash */
    x = 42;
    assert_false(ljson_number(root, "/end/streams/1/receiver/bits_per_second", &x));
    assert_false(ljson_number(root, "/end/streams/2", &x));
    assert_false(ljson_number(root, "/end/streams/-", &x));
    assert_false(ljson_number(root, "/end/streams/01", &x));
    assert_false(ljson_number(root, "/s", &x)); /* a string, not a number */
    assert_false(ljson_number(root, "/t", &x));
    assert_false(ljson_number(root, "/n", &x));
    assert_false(ljson_number(root, "/s/0", &x)); /* into a scalar */
    assert_false(ljson_number(root, "end", &x));
    assert_false(ljson_number(root, "/k", &x)); /* keys are compared whole */
    assert_true(x == 42);                       /* untouched */
    assert_null(ljson_string(root, "/end/sum_sent/retransmits"));
    assert_null(ljson_string(root, "/nope/x"));
    assert_null(ljson_get(root, "/a~2"));
    /* no document at all (a report that did not parse) */
    assert_false(ljson_number(NULL, "/end", &x));
    assert_null(ljson_string(NULL, "/end"));
    json_decref(root);

    /* a bare number is a document (a tool that prints only its figure) */
    root = s_load(" 42 ");
    assert_true(ljson_number(root, "", &x));
    assert_true(x == 42);
    json_decref(root);
}

static void test_load_refuses(void **state)
{
    (void)state;
    /* what is wrong and where: jansson's reason, line, column and byte */
    static const struct {
        const char *text;
        size_t len;
        const char *want;
    } bad[] = {
        {"{\"a\": 1]", 8, "'}' expected near ']' at line 1, column 8 (byte 8)"},
        {"[1, 2", 5, "']' expected near end of file at line 1, column 5 (byte 5)"},
        {"{\"end\": {\n  \"sum_sent\": {\"bits_per_second\": 1e999}}}", 52,
         "real number overflow near '1e999' at line 2, column 39 (byte 49)"},
        {"[1] x", 5, "end of file expected near 'x' at line 1, column 5 (byte 5)"},
        {"", 0, "there is no JSON value (0 bytes, all blank)"},
        {" \r\n\t", 4, "there is no JSON value (4 bytes, all blank)"},
        /* a report cut short, as a killed iperf leaves it */
        {"{\"start\": {\"connected\": [{\"remote_host\": \"10.0", 46,
         "premature end of input near '\"10.0' at line 1, column 46 (byte 46)"},
        /* bytes that are not text, and a NUL inside the document (jansson alone
         * would read "4\0" as 4) */
        {"[\"\xff\"]", 5, "unable to decode byte 0xff near '\"' at line 1, column 2 (byte 2)"},
        {"[1,\0 2]", 7, "a NUL byte, which JSON text never holds, at byte 4"},
        {"4\0", 2, "a NUL byte, which JSON text never holds, at byte 2"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        s_refused(bad[i].text, bad[i].len, bad[i].want);
    /* the message fits a small buffer, cut rather than overflowing */
    char err[16];
    assert_null(ljson_load("[", 1, err, sizeof err));
    assert_int_equal(strlen(err), sizeof err - 1);
    /* deep nesting is refused, not a stack overflow */
    char *deep = malloc(100000);
    assert_non_null(deep);
    memset(deep, '[', 100000);
    char msg[256];
    assert_null(ljson_load(deep, 100000, msg, sizeof msg));
    assert_true(strncmp(msg, "maximum parsing depth reached", 29) == 0);
    free(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pointer_parse),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_load_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
