/* test_options.c — the option parser shared by coordinator and worker:
 * units (sizes, durations, booleans, integers), range and choice messages
 * exactly as users will read them, defaults and canonical formatting; lists
 * (argv-like, written as JSON arrays of strings) parsed strictly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

struct t_opts {
    int64_t threads;
    uint64_t block;
    int64_t time_ns;
    double ratio;
    bool direct;
    char *path;
    int mode;
    int64_t anyint;
};

static const char *const s_modes[] = {"read", "write", NULL};

static const struct opt_def s_defs[] = {
    {.name = "threads", .type = OPT_INT, .offset = offsetof(struct t_opts, threads), .def = "1",
     .min = 1, .max = 1024, .help = "threads"},
    {.name = "block_size", .type = OPT_SIZE, .offset = offsetof(struct t_opts, block), .def = "4K",
     .min = 512, .max = 1024.0 * 1024 * 1024, .help = "block"},
    {.name = "time", .type = OPT_DURATION, .offset = offsetof(struct t_opts, time_ns),
     .def = "10s", .min = 0, .max = 24 * 3600, .help = "time"},
    {.name = "ratio", .type = OPT_DOUBLE, .offset = offsetof(struct t_opts, ratio), .def = "0.5",
     .min = 0, .max = 1, .help = "ratio"},
    {.name = "direct", .type = OPT_BOOL, .offset = offsetof(struct t_opts, direct), .def = "yes",
     .help = "O_DIRECT"},
    {.name = "path", .type = OPT_STR, .offset = offsetof(struct t_opts, path), .def = NULL,
     .help = "path"},
    {.name = "mode", .type = OPT_ENUM, .offset = offsetof(struct t_opts, mode), .def = "write",
     .choices = s_modes, .help = "mode"},
    {.name = "anyint", .type = OPT_INT, .offset = offsetof(struct t_opts, anyint), .def = NULL,
     .help = "unbounded"},
    {.name = NULL},
};

static const struct opt_def *s_def(const char *name)
{
    const struct opt_def *d = opt_find(s_defs, name);
    assert_non_null(d);
    return d;
}

/* Parse into o, expecting success. */
static void s_ok(struct t_opts *o, const char *name, const char *value)
{
    char err[256] = "";
    int rc = opt_parse(s_def(name), o, value, err, sizeof err);
    if (rc != 0)
        print_error("opt_parse(%s, '%s') failed: %s\n", name, value, err);
    assert_int_equal(rc, 0);
}

/* Parse, expecting failure with exactly this message. */
static void s_bad(const char *name, const char *value, const char *msg)
{
    struct t_opts o = {0};
    char err[256] = "";
    assert_int_equal(opt_parse(s_def(name), &o, value, err, sizeof err), -1);
    assert_string_equal(err, msg);
    opt_free(s_defs, &o);
}

static uint64_t s_size(const char *s)
{
    uint64_t v = 0;
    if (opt_parse_size(s, &v) != 0)
        fail_msg("size '%s' rejected", s);
    return v;
}

static int64_t s_dur(const char *s)
{
    int64_t v = 0;
    if (opt_parse_duration(s, &v) != 0)
        fail_msg("duration '%s' rejected", s);
    return v;
}

static void test_size_units(void **state)
{
    (void)state;
    assert_int_equal(s_size("4096"), 4096);
    assert_int_equal(s_size("0"), 0);
    assert_int_equal(s_size("4K"), 4096);
    assert_int_equal(s_size("4k"), 4096);
    assert_int_equal(s_size("4KB"), 4096);
    assert_int_equal(s_size("4KiB"), 4096);
    assert_int_equal(s_size("4096B"), 4096);
    assert_int_equal(s_size("1M"), 1024 * 1024);
    assert_int_equal(s_size("1m"), 1024 * 1024);
    assert_int_equal(s_size("3MiB"), 3 * 1024 * 1024);
    assert_int_equal(s_size("1G"), 1024ULL * 1024 * 1024);
    assert_int_equal(s_size("1T"), 1024ULL * 1024 * 1024 * 1024);
    assert_int_equal(s_size("18446744073709551615"), UINT64_MAX);
}

static void test_size_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "4Q", "", "-1", "+4", " 4", "4 K", "4K ", "K", "1.5M", "4KBB", "4iB", "0x10",
        "18446744073709551616",  /* UINT64_MAX + 1 */
        "17179869184G",          /* 2^34 G = 2^64 */
        "99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 77;
        if (opt_parse_size(bad[i], &v) != -1)
            fail_msg("size '%s' accepted as %llu", bad[i], (unsigned long long)v);
        assert_int_equal(v, 77); /* untouched on failure */
    }
    uint64_t v;
    assert_int_equal(opt_parse_size(NULL, &v), -1);
}

static void test_duration_units(void **state)
{
    (void)state;
    assert_int_equal(s_dur("10"), 10000000000LL);
    assert_int_equal(s_dur("0"), 0);
    assert_int_equal(s_dur("10s"), 10000000000LL);
    assert_int_equal(s_dur("1.5s"), 1500000000LL);
    assert_int_equal(s_dur("0.1"), 100000000LL);
    assert_int_equal(s_dur("500ms"), 500000000LL);
    assert_int_equal(s_dur("250us"), 250000LL);
    assert_int_equal(s_dur("7ns"), 7);
    assert_int_equal(s_dur("2m"), 120000000000LL);
    assert_int_equal(s_dur("1.5m"), 90000000000LL);
    assert_int_equal(s_dur("1h"), 3600000000000LL);
    assert_int_equal(s_dur("0.25h"), 900000000000LL);
    assert_int_equal(s_dur("1.000000001s"), 1000000001LL);
    assert_int_equal(s_dur("0.5ms"), 500000LL);
}

static void test_duration_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "-1", "-1s", "s", "10x", "10 s", " 10", "1.s", ".5", "1.5.2s", "1e3", "10S",
        "10sec", "1d", "9223372037s", /* > INT64_MAX ns */
        "99999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 77;
        if (opt_parse_duration(bad[i], &v) != -1)
            fail_msg("duration '%s' accepted as %lld", bad[i], (long long)v);
        assert_int_equal(v, 77);
    }
}

static void test_bool(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "yes", "on", "1", "TRUE", "Yes"};
    static const char *const no[] = {"false", "no", "off", "0", "False", "OFF"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        bool b = false;
        assert_int_equal(opt_parse_bool(yes[i], &b), 0);
        assert_true(b);
        b = true;
        assert_int_equal(opt_parse_bool(no[i], &b), 0);
        assert_false(b);
    }
    static const char *const bad[] = {"", "2", "y", "maybe", "truee", " true"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bool b;
        if (opt_parse_bool(bad[i], &b) != -1)
            fail_msg("bool '%s' accepted", bad[i]);
    }
    s_bad("direct", "maybe", "direct: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)");
}

static void test_int(void **state)
{
    (void)state;
    struct t_opts o = {0};
    s_ok(&o, "threads", "1024");
    assert_int_equal(o.threads, 1024);
    s_ok(&o, "threads", "+7");
    assert_int_equal(o.threads, 7);
    s_ok(&o, "anyint", "-9223372036854775808");
    assert_true(o.anyint == INT64_MIN);
    s_ok(&o, "anyint", "9223372036854775807");
    assert_true(o.anyint == INT64_MAX);

    s_bad("threads", "4x", "threads: '4x' is not an integer");
    s_bad("threads", "", "threads: '' is not an integer");
    s_bad("threads", " 4", "threads: ' 4' is not an integer");
    s_bad("threads", "4 ", "threads: '4 ' is not an integer");
    s_bad("threads", "1.5", "threads: '1.5' is not an integer");
    s_bad("threads", "4K", "threads: '4K' is not an integer");
    s_bad("anyint", "9223372036854775808",
          "anyint: '9223372036854775808' is too large for an integer");
    /* a failed parse leaves the field alone */
    assert_int_equal(o.threads, 7);
}

static void test_range_messages(void **state)
{
    (void)state;
    s_bad("threads", "0", "threads: 0 is out of range (allowed 1..1024)");
    s_bad("threads", "1025", "threads: 1025 is out of range (allowed 1..1024)");
    s_bad("threads", "-3", "threads: -3 is out of range (allowed 1..1024)");
    s_bad("block_size", "256", "block_size: 256 is out of range (allowed 512..1G)");
    s_bad("block_size", "2G", "block_size: 2G is out of range (allowed 512..1G)");
    s_bad("block_size", "4Q",
          "block_size: '4Q' is not a size (a number with an optional K, M, G or T suffix)");
    s_bad("time", "25h", "time: 25h is out of range (allowed 0s..24h)");
    s_bad("time", "86401", "time: 86401s is out of range (allowed 0s..24h)");
    s_bad("time", "10x",
          "time: '10x' is not a duration (seconds, or a number with an ns, us, ms, s, m or h "
          "suffix)");
    s_bad("ratio", "1.5", "ratio: 1.5 is out of range (allowed 0..1)");
    s_bad("ratio", "abc", "ratio: 'abc' is not a number");
    s_bad("ratio", "nan", "ratio: 'nan' is not a number");

    /* the bounds themselves are allowed */
    struct t_opts o = {0};
    s_ok(&o, "threads", "1");
    s_ok(&o, "block_size", "512");
    s_ok(&o, "block_size", "1G");
    s_ok(&o, "time", "24h");
    s_ok(&o, "time", "0");
    assert_int_equal(o.time_ns, 0);
}

static void test_enum_and_string(void **state)
{
    (void)state;
    struct t_opts o = {0};
    s_ok(&o, "mode", "read");
    assert_int_equal(o.mode, 0);
    s_ok(&o, "mode", "write");
    assert_int_equal(o.mode, 1);
    s_bad("mode", "Read", "mode: 'Read' is not one of read, write");
    s_bad("mode", "rw", "mode: 'rw' is not one of read, write");

    s_ok(&o, "path", "/tmp/a");
    s_ok(&o, "path", "/tmp/b"); /* replaces, and the first copy is freed (ASan checks) */
    assert_string_equal(o.path, "/tmp/b");
    opt_free(s_defs, &o);
    assert_null(o.path);

    char err[128] = "";
    assert_int_equal(opt_parse(s_def("path"), &o, NULL, err, sizeof err), -1);
    assert_string_equal(err, "path: no value given");
}

static void test_find(void **state)
{
    (void)state;
    assert_ptr_equal(opt_find(s_defs, "time"), &s_defs[2]);
    assert_null(opt_find(s_defs, "tim"));
    assert_null(opt_find(s_defs, "TIME"));
    assert_null(opt_find(s_defs, NULL));
}

static void test_defaults(void **state)
{
    (void)state;
    struct t_opts o;
    memset(&o, 0, sizeof o);
    char err[256] = "";
    assert_int_equal(opt_set_defaults(s_defs, &o, err, sizeof err), 0);
    assert_int_equal(o.threads, 1);
    assert_int_equal(o.block, 4096);
    assert_int_equal(o.time_ns, 10000000000LL);
    assert_true(o.ratio == 0.5);
    assert_true(o.direct);
    assert_null(o.path);
    assert_int_equal(o.mode, 1);
    assert_int_equal(o.anyint, 0);

    /* a default outside its own range is reported, naming the option */
    static const struct opt_def broken[] = {
        {.name = "n", .type = OPT_INT, .offset = 0, .def = "0", .min = 1, .max = 2},
        {.name = NULL},
    };
    int64_t n = 0;
    assert_int_equal(opt_set_defaults(broken, &n, err, sizeof err), -1);
    assert_string_equal(err, "bad default for option n: n: 0 is out of range (allowed 1..2)");
}

/* format(parse(x)) is canonical, and parse(format(v)) gives v back. */
static void s_roundtrip(const char *name, const char *in, const char *canonical)
{
    struct t_opts a = {0}, b = {0};
    char buf[128], err[256];
    s_ok(&a, name, in);
    assert_int_equal(opt_format(s_def(name), &a, buf, sizeof buf), 0);
    assert_string_equal(buf, canonical);
    assert_int_equal(opt_parse(s_def(name), &b, buf, err, sizeof err), 0);
    const struct opt_def *d = s_def(name);
    if (d->type == OPT_STR) {
        assert_string_equal(a.path, b.path);
    } else {
        size_t width = d->type == OPT_BOOL ? sizeof(bool) : d->type == OPT_ENUM ? sizeof(int) : 8;
        assert_memory_equal((char *)&a + d->offset, (char *)&b + d->offset, width);
    }
    opt_free(s_defs, &a);
    opt_free(s_defs, &b);
}

static void test_format(void **state)
{
    (void)state;
    s_roundtrip("threads", "+16", "16");
    s_roundtrip("block_size", "4K", "4096");
    s_roundtrip("block_size", "1GiB", "1073741824");
    s_roundtrip("time", "10s", "10");
    s_roundtrip("time", "500ms", "0.5");
    s_roundtrip("time", "1.5m", "90");
    s_roundtrip("time", "1ns", "0.000000001");
    s_roundtrip("time", "0.120s", "0.12");
    s_roundtrip("time", "0", "0");
    s_roundtrip("ratio", "0.1", "0.1");
    s_roundtrip("ratio", "1", "1");
    s_roundtrip("direct", "on", "true");
    s_roundtrip("direct", "0", "false");
    s_roundtrip("mode", "read", "read");
    s_roundtrip("path", "/x y", "/x y");

    /* a buffer too small is an error, not silent truncation */
    struct t_opts o = {.threads = 1024};
    char tiny[4];
    assert_int_equal(opt_format(s_def("threads"), &o, tiny, sizeof tiny), -1);
}

static void test_describe(void **state)
{
    (void)state;
    char buf[128];
    static const struct {
        const char *name, *want;
    } cases[] = {
        {"threads", "integer, 1..1024"},
        {"block_size", "size, 512..1G"},
        {"time", "duration, 0s..24h"},
        {"ratio", "number, 0..1"},
        {"direct", "boolean"},
        {"path", "string"},
        {"mode", "one of read, write"},
        {"anyint", "integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        opt_describe(s_def(cases[i].name), buf, sizeof buf);
        assert_string_equal(buf, cases[i].want);
    }
    static const struct opt_def odd[] = {
        {.name = "d", .type = OPT_DURATION, .min = 0.5, .max = 90},
        {.name = "s", .type = OPT_SIZE, .min = 1536, .max = 3.0 * 1024 * 1024},
        {.name = NULL},
    };
    opt_describe(&odd[0], buf, sizeof buf);
    assert_string_equal(buf, "duration, 500ms..90s");
    opt_describe(&odd[1], buf, sizeof buf);
    assert_string_equal(buf, "size, 1536..3M");
}

/* --- lists --------------------------------------------------------------- */

struct l_opts {
    char **command;
    char **args;
};

static const struct opt_def s_ldefs[] = {
    {.name = "command", .type = OPT_LIST, .offset = offsetof(struct l_opts, command),
     .def = NULL, .help = "argv"},
    {.name = "args", .type = OPT_LIST, .offset = offsetof(struct l_opts, args),
     .def = "[\"-v\", \"x y\"]", .help = "with a default"},
    {.name = NULL},
};

static size_t s_count(char *const *list)
{
    size_t n = 0;
    while (list[n])
        n++;
    return n;
}

static void s_list_ok(struct l_opts *o, const char *value)
{
    char err[256] = "";
    int rc = opt_parse(&s_ldefs[0], o, value, err, sizeof err);
    if (rc != 0)
        print_error("opt_parse(command, '%s') failed: %s\n", value, err);
    assert_int_equal(rc, 0);
    assert_non_null(o->command);
}

static void s_list_bad(const char *value, const char *msg)
{
    struct l_opts o = {0};
    char err[256] = "";
    if (opt_parse(&s_ldefs[0], &o, value, err, sizeof err) != -1)
        fail_msg("list '%s' accepted", value);
    assert_null(o.command);
    if (msg)
        assert_string_equal(err, msg);
    else
        assert_true(strncmp(err, "command: ", 9) == 0);
}

static void test_list_parse(void **state)
{
    (void)state;
    struct l_opts o = {0};
    s_list_ok(&o, "[\"sh\",\"-c\",\"echo hi\"]");
    assert_int_equal(s_count(o.command), 3);
    assert_string_equal(o.command[0], "sh");
    assert_string_equal(o.command[1], "-c");
    assert_string_equal(o.command[2], "echo hi");
    assert_null(o.command[3]);

    s_list_ok(&o, "[]"); /* replaces, and the first block is freed (ASan checks) */
    assert_int_equal(s_count(o.command), 0);
    s_list_ok(&o, " [\t\"a\" ,\r\n \"b\" ] \n");
    assert_int_equal(s_count(o.command), 2);
    assert_string_equal(o.command[1], "b");
    s_list_ok(&o, "[\"\"]");
    assert_int_equal(s_count(o.command), 1);
    assert_string_equal(o.command[0], "");

    s_list_ok(&o, "[\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t.\"]");
    assert_string_equal(o.command[0], "q\"b\\s/\b\f\n\r\t.");
    /* \u escapes to UTF-8, a surrogate pair to one 4-byte character */
    s_list_ok(&o, "[\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\u007f\"]");
    assert_string_equal(o.command[0], "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x7f");
    /* UTF-8 as it is, up to the largest code point */
    s_list_ok(&o, "[\"caf\xc3\xa9\", \"\xf4\x8f\xbf\xbf\"]");
    assert_string_equal(o.command[0], "caf\xc3\xa9");

    /* the longest and widest lists allowed */
    char *big = malloc(OPT_LIST_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, 'x', OPT_LIST_MAX_BYTES);
    big[0] = '[';
    big[1] = '"';
    big[OPT_LIST_MAX_BYTES - 2] = '"';
    big[OPT_LIST_MAX_BYTES - 1] = ']';
    big[OPT_LIST_MAX_BYTES] = '\0';
    s_list_ok(&o, big);
    assert_int_equal(strlen(o.command[0]), OPT_LIST_MAX_BYTES - 4);
    big[OPT_LIST_MAX_BYTES - 1] = ' ';
    big[OPT_LIST_MAX_BYTES] = ']';
    big[OPT_LIST_MAX_BYTES + 1] = '\0';
    s_list_bad(big, "command: the list is 8193 bytes long (at most 8192 allowed)");
    free(big);

    char many[OPT_LIST_MAX_ITEMS * 3 + 8];
    size_t k = 0;
    many[k++] = '[';
    for (int i = 0; i < OPT_LIST_MAX_ITEMS; i++)
        k += (size_t)sprintf(many + k, "%s\"\"", i ? "," : "");
    many[k++] = ']';
    many[k] = '\0';
    s_list_ok(&o, many);
    assert_int_equal(s_count(o.command), OPT_LIST_MAX_ITEMS);
    strcpy(many + k - 1, ",\"\"]");
    s_list_bad(many, NULL);

    opt_free(s_ldefs, &o);
    assert_null(o.command);
}

static void test_list_rejects(void **state)
{
    (void)state;
    /* a scalar is not a one-element list: strict, not guessed */
    s_list_bad("sh -c 'x'", "command: 'sh -c 'x'' is not a list of strings (write a JSON "
                            "array, e.g. [\"sh\", \"-c\", \"echo hi\"])");
    s_list_bad("", "command: '' is not a list of strings (write a JSON array, e.g. [\"sh\", "
                   "\"-c\", \"echo hi\"])");
    s_list_bad("[\"a\" \"b\"]",
               "command: '[\"a\" \"b\"]' is not a list of strings: expected ',' or ']' at byte 6");
    s_list_bad("[\"a\",]",
               "command: '[\"a\",]' is not a list of strings: expected a string at byte 6");
    s_list_bad("[\"\\u0000\"]", "command: '[\"\\u0000\"]' is not a list of strings: \\u0000 is "
                                "not allowed: an argument cannot hold a NUL at byte 3");
    s_list_bad("[\"\\ud800x\"]", "command: '[\"\\ud800x\"]' is not a list of strings: a high "
                                 "surrogate without a low one after it at byte 3");
    s_list_bad("[\"a\nb\"]", "command: '[\"a?b\"]' is not a list of strings: a control "
                             "character must be escaped (\\n, \\t, \\u00XX) at byte 4");
    s_list_bad("[\"\\x\"]", "command: '[\"\\x\"]' is not a list of strings: unknown escape "
                            "(allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX) at byte 3");
    /* jansson reads the list; its refusals are said in the same words, at the byte */
    s_list_bad("[\"\\udc00\"]", "command: '[\"\\udc00\"]' is not a list of strings: a low "
                                "surrogate without a high one before it at byte 3");
    s_list_bad("[\"\\ud800\\u0041\"]", "command: '[\"\\ud800\\u0041\"]' is not a list of "
                                       "strings: a high surrogate without a low one after it at "
                                       "byte 3");
    s_list_bad("[\"\\u12G4\"]", "command: '[\"\\u12G4\"]' is not a list of strings: \\u must "
                                "be followed by four hex digits at byte 3");
    s_list_bad("[\"a\", \"\xff\"]", "command: '[\"a\", \"\xff\"]' is not a list of strings: "
                                    "invalid UTF-8 at byte 8");
    s_list_bad("[\"a\"", "command: '[\"a\"' is not a list of strings: the list is not closed at "
                         "byte 5");
    s_list_bad("[\"a", "command: '[\"a' is not a list of strings: the string is not closed at "
                       "byte 4");
    s_list_bad("[\"a\"] x", "command: '[\"a\"] x' is not a list of strings: text after the "
                            "closing ']' at byte 7");
    s_list_bad("[\"a\",,\"b\"]", "command: '[\"a\",,\"b\"]' is not a list of strings: expected "
                                 "a string at byte 6");
    /* a value that is JSON but not a string: which item */
    s_list_bad("[\"sh\", 1]", "command: '[\"sh\", 1]' is not a list of strings: item 2 is not a "
                              "string");
    s_list_bad("[[\"a\"]]", "command: '[[\"a\"]]' is not a list of strings: item 1 is not a "
                            "string");
    /* an escape past jansson's 20-byte context is still placed in its string */
    s_list_bad("[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\x\"]",
               "command: '[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\x\"]' is not a list of strings: "
               "unknown escape (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX) at byte 33");
    static const char *const bad[] = {
        "[", "[\"a\"", "[\"a", "[,]", "[1]", "[null]", "[[\"a\"]]", "[\"a\"]x", "[\"a\"]]",
        "['a']", "{\"a\": 1}", "[\"a\",,\"b\"]", "[\"\\u12\"]", "[\"\\u12G4\"]", "[\"\\U0041\"]",
        "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[\"\\ud800\"]", "[\"\t\"]", "[\"\x7f\x01\"]",
        "[\"\xff\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]",
        "[\"\xe2\x82\"]", "[\"\xc3\"]", "[\"a\"\f]", "\xef\xbb\xbf[]", "[\"a\"]\n\n\x01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        s_list_bad(bad[i], NULL);
}

static void test_list_format(void **state)
{
    (void)state;
    struct l_opts a = {0}, b = {0};
    char buf[256], err[256];
    static const struct {
        const char *in, *canonical;
    } cases[] = {
        {" [ \"sh\" , \"-c\",\"echo hi\" ] ", "[\"sh\",\"-c\",\"echo hi\"]"},
        {"[]", "[]"},
        {"[\"\"]", "[\"\"]"},
        {"[\"\\/\\u0041\\u00e9\"]", "[\"/A\xc3\xa9\"]"},
        {"[\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001F\x7f\"]",
         "[\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_list_ok(&a, cases[i].in);
        assert_int_equal(opt_format(&s_ldefs[0], &a, buf, sizeof buf), 0);
        assert_string_equal(buf, cases[i].canonical);
        /* parse(format(v)) == v, item by item */
        assert_int_equal(opt_parse(&s_ldefs[0], &b, buf, err, sizeof err), 0);
        assert_int_equal(s_count(a.command), s_count(b.command));
        for (size_t j = 0; a.command[j]; j++)
            assert_string_equal(a.command[j], b.command[j]);
        /* and opt_list_json writes the same text */
        char *json = opt_list_json((const char *const *)a.command, s_count(a.command));
        assert_non_null(json);
        assert_string_equal(json, cases[i].canonical);
        free(json);
    }
    /* an unset list prints as the empty list */
    opt_free(s_ldefs, &a);
    assert_int_equal(opt_format(&s_ldefs[0], &a, buf, sizeof buf), 0);
    assert_string_equal(buf, "[]");
    /* a buffer too small is an error, not silent truncation */
    s_list_ok(&a, "[\"abc\"]");
    char tiny[7];
    assert_int_equal(opt_format(&s_ldefs[0], &a, tiny, sizeof tiny), -1);
    char fits[8];
    assert_int_equal(opt_format(&s_ldefs[0], &a, fits, sizeof fits), 0);
    assert_string_equal(fits, "[\"abc\"]");
    opt_free(s_ldefs, &a);
    opt_free(s_ldefs, &b);

    char *empty = opt_list_json(NULL, 0);
    assert_string_equal(empty, "[]");
    free(empty);
}

static void test_list_default_and_describe(void **state)
{
    (void)state;
    struct l_opts o = {0};
    char err[256] = "", buf[64];
    assert_int_equal(opt_set_defaults(s_ldefs, &o, err, sizeof err), 0);
    assert_null(o.command);
    assert_non_null(o.args);
    assert_int_equal(s_count(o.args), 2);
    assert_string_equal(o.args[1], "x y");
    opt_describe(&s_ldefs[0], buf, sizeof buf);
    assert_string_equal(buf, "list of strings");
    opt_free(s_ldefs, &o);
    assert_null(o.args);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_units),
        cmocka_unit_test(test_size_rejects),
        cmocka_unit_test(test_duration_units),
        cmocka_unit_test(test_duration_rejects),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_range_messages),
        cmocka_unit_test(test_enum_and_string),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_list_parse),
        cmocka_unit_test(test_list_rejects),
        cmocka_unit_test(test_list_format),
        cmocka_unit_test(test_list_default_and_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
