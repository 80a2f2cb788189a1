/* test_proto.c — the wire codec: every message type round-trips with all its
 * fields, the schema refuses what proto.h's table does not allow, and hostile
 * frames (length bombs, deep nesting, truncation, random bytes) fail cleanly
 * with the specific reason a log reader needs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "proto.h"

/* ------------------------------------------------------------ the spec, again
 * proto.h's list of messages written out independently of proto.c's table,
 * so a field dropped or mistyped there shows up here. */

typedef enum { K_STR, K_INT, K_BOOL, K_STRMAP, K_STRARRAY, K_METRICS } kind_t;

struct tfield {
    const char *key;
    kind_t kind;
    bool required;
};

struct ttype {
    proto_type_t type;
    const char *name;
    struct tfield f[14];
};

#define RPR { "run", K_INT, true }, { "phase", K_INT, true }, { "rep", K_INT, true }

static const struct ttype s_spec[] = {
    { PROTO_HELLO, "HELLO",
      { { "name", K_STR, true }, { "platform", K_STR, true }, { "hostname", K_STR, true },
        { "kernel", K_STR, true }, { "cpu_model", K_STR, true }, { "cores", K_INT, true },
        { "mem_bytes", K_INT, true }, { "pid", K_INT, true }, { "advertise", K_STR, false },
        { "caps", K_STRARRAY, false }, { "epoch", K_INT, false } } },
    { PROTO_WELCOME, "WELCOME",
      { { "run", K_INT, true }, { "rank", K_INT, true }, { "pub", K_STR, true },
        { "hb_ms", K_INT, true }, { "missed_beats", K_INT, false } } },
    { PROTO_REJECT, "REJECT", { { "reason", K_STR, true } } },
    { PROTO_SYNC, "SYNC", { { "run", K_INT, true }, { "nonce", K_INT, true } } },
    { PROTO_SYNC_OK, "SYNC_OK", { { "nonce", K_INT, true } } },
    { PROTO_PING, "PING", { { "seq", K_INT, true }, { "t0", K_INT, true } } },
    { PROTO_PONG, "PONG", { { "seq", K_INT, true }, { "t0", K_INT, true }, { "tc", K_INT, true } } },
    { PROTO_PREPARE, "PREPARE",
      { RPR, { "bench", K_STR, true }, { "params", K_STRMAP, true },
        { "timeout_ms", K_INT, true }, { "role", K_STR, false }, { "peer", K_STR, false } } },
    { PROTO_READY, "READY",
      { RPR, { "ok", K_BOOL, true }, { "error", K_STR, false }, { "offset_ns", K_INT, true },
        { "offset_err_ns", K_INT, true } } },
    { PROTO_GO, "GO", { RPR, { "start_at", K_INT, true } } },
    { PROTO_RESULT, "RESULT",
      { RPR, { "status", K_STR, true }, { "started_at", K_INT, true },
        { "finished_at", K_INT, true }, { "metrics", K_METRICS, true },
        { "details", K_STRMAP, true }, { "error", K_STR, false } } },
    { PROTO_ACK, "ACK", { RPR } },
    { PROTO_HEARTBEAT, "HEARTBEAT", { { "t", K_INT, true } } },
    { PROTO_QUIT, "QUIT", { { "reason", K_STR, false } } },
    { PROTO_STOP, "STOP", { RPR } },
};
#define NSPEC (sizeof s_spec / sizeof s_spec[0])

static const char *const s_map_keys[] = { "block_size", "key two", "empty" };
static const char *const s_map_vals[] = { "4K", "v\xc3\xa4lue 2", "" };
static const char *const s_arr[] = { "io_uring", "cap b", "" };
static const proto_metric_t s_metrics[] = {
    { "events_per_s", "1/s", 12345.678 },
    { "mib_s", "MiB/s", -0.5 },
    { "zero", "", 0.0 },
};

/* A distinct, sometimes negative, sometimes huge value per key. */
static int64_t s_intval(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (int64_t)h;
}

static void s_strval(const char *key, char *buf, size_t len)
{
    if (strcmp(key, "status") == 0)
        snprintf(buf, len, "ok");
    else
        snprintf(buf, len, "%s value \xe2\x9c\x93", key);
}

static void s_put_field(proto_builder_t *b, const struct tfield *f)
{
    char buf[64];
    switch (f->kind) {
    case K_STR: s_strval(f->key, buf, sizeof buf); proto_put_str(b, f->key, buf); break;
    case K_INT: proto_put_int(b, f->key, s_intval(f->key)); break;
    case K_BOOL: proto_put_bool(b, f->key, true); break;
    case K_STRMAP: proto_put_strmap(b, f->key, s_map_keys, s_map_vals, 3); break;
    case K_STRARRAY: proto_put_strarray(b, f->key, s_arr, 3); break;
    case K_METRICS: proto_put_metrics(b, f->key, s_metrics, 3); break;
    }
}

/* A value of the wrong kind for f. */
static void s_put_wrong(proto_builder_t *b, const struct tfield *f)
{
    switch (f->kind) {
    case K_STR: proto_put_int(b, f->key, 5); break;
    case K_INT: proto_put_str(b, f->key, "5"); break;
    case K_BOOL: proto_put_int(b, f->key, 1); break;
    case K_STRMAP: proto_put_strarray(b, f->key, s_arr, 3); break;
    case K_STRARRAY: proto_put_str(b, f->key, "cap"); break;
    case K_METRICS: proto_put_strmap(b, f->key, s_map_keys, s_map_vals, 3); break;
    }
}

enum { ALL, REQUIRED_ONLY };

/* Encodes t with its fields; `skip` is left out, `wrong` gets a bad value. */
static void s_build(const struct ttype *t, int which, const char *skip, const char *wrong,
                    int64_t version, void **data, size_t *len)
{
    proto_builder_t *b = proto_begin_version(t->type, version);
    assert_non_null(b);
    for (const struct tfield *f = t->f; f->key; f++) {
        if ((which == REQUIRED_ONLY && !f->required) || (skip && strcmp(skip, f->key) == 0))
            continue;
        if (wrong && strcmp(wrong, f->key) == 0)
            s_put_wrong(b, f);
        else
            s_put_field(b, f);
    }
    assert_int_equal(proto_finish(&b, data, len), 0);
    assert_null(b);
}

/* Decodes from an exactly-sized heap copy so ASan sees any over-read. */
static int s_decode(const void *data, size_t len, proto_msg_t **msg, char *err, size_t errlen)
{
    void *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, data, len);
    int rc = proto_decode(copy, len, msg, err, errlen);
    memset(copy, 0xa5, len ? len : 1); /* the message must not point into the frame */
    free(copy);
    return rc;
}

/* Decodes and expects failure with `code` and an error containing `want`. */
static void s_expect(const void *data, size_t len, int code, const char *want)
{
    proto_msg_t *msg = (proto_msg_t *)1;
    char err[256];
    int rc = s_decode(data, len, &msg, err, sizeof err);
    if (rc != code || (want && !strstr(err, want)))
        print_error("expected %d '%s', got %d '%s'\n", code, want ? want : "", rc, err);
    assert_int_equal(rc, code);
    if (want)
        assert_non_null(strstr(err, want));
    if (code == PROTO_E_VERSION)
        assert_non_null(msg);
    else
        assert_null(msg);
    proto_msg_destroy(&msg);
}

static void s_check_field(const proto_msg_t *msg, const struct tfield *f)
{
    char buf[64];
    const char *k, *v;
    proto_metric_t m;

    assert_true(proto_has(msg, f->key));
    switch (f->kind) {
    case K_STR:
        s_strval(f->key, buf, sizeof buf);
        assert_string_equal(proto_str(msg, f->key), buf);
        break;
    case K_INT:
        assert_true(proto_int(msg, f->key, 7) == s_intval(f->key));
        break;
    case K_BOOL:
        assert_true(proto_bool(msg, f->key, false));
        break;
    case K_STRMAP:
        assert_int_equal(proto_strmap_count(msg, f->key), 3);
        for (size_t i = 0; i < 3; i++) {
            assert_int_equal(proto_strmap_get(msg, f->key, i, &k, &v), 0);
            assert_string_equal(k, s_map_keys[i]);
            assert_string_equal(v, s_map_vals[i]);
        }
        assert_int_equal(proto_strmap_get(msg, f->key, 3, &k, &v), -1);
        break;
    case K_STRARRAY:
        assert_int_equal(proto_strarray_count(msg, f->key), 3);
        for (size_t i = 0; i < 3; i++)
            assert_string_equal(proto_strarray_get(msg, f->key, i), s_arr[i]);
        assert_null(proto_strarray_get(msg, f->key, 3));
        break;
    case K_METRICS:
        assert_int_equal(proto_metrics_count(msg, f->key), 3);
        for (size_t i = 0; i < 3; i++) {
            assert_int_equal(proto_metrics_get(msg, f->key, i, &m), 0);
            assert_string_equal(m.name, s_metrics[i].name);
            assert_string_equal(m.unit, s_metrics[i].unit);
            assert_true(m.value == s_metrics[i].value);
        }
        assert_int_equal(proto_metrics_get(msg, f->key, 3, &m), -1);
        break;
    }
}

/* Appends raw bytes holding one more key and value to an encoded message. */
static void s_append(void **data, size_t *len, const void *field, size_t n)
{
    unsigned char *p = realloc(*data, *len + n);
    assert_non_null(p);
    assert_int_equal(p[0], 0xdf);
    uint32_t count = ((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4]) + 1;
    p[1] = (unsigned char)(count >> 24);
    p[2] = (unsigned char)(count >> 16);
    p[3] = (unsigned char)(count >> 8);
    p[4] = (unsigned char)count;
    memcpy(p + *len, field, n);
    *data = p;
    *len += n;
}

/* ---------------------------------------------------- raw frames for attacks */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} raw_t;

static void raw_init(raw_t *r)
{
    msgpack_sbuffer_init(&r->sb);
    msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

static void raw_bytes(raw_t *r, const void *p, size_t n)
{
    msgpack_sbuffer_write(&r->sb, p, n);
}

static void raw_str(raw_t *r, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(&r->pk, n);
    msgpack_pack_str_body(&r->pk, s, n);
}

static void raw_strn(raw_t *r, const char *s, size_t n)
{
    msgpack_pack_str(&r->pk, n);
    msgpack_pack_str_body(&r->pk, s, n);
}

/* Map header for nfields entries, then v and type. */
static void raw_head(raw_t *r, uint32_t nfields, int64_t v, const char *type)
{
    msgpack_pack_map(&r->pk, nfields);
    raw_str(r, "v");
    msgpack_pack_int64(&r->pk, v);
    raw_str(r, "type");
    raw_str(r, type);
}

static void raw_expect(raw_t *r, int code, const char *want)
{
    s_expect(r->sb.data, r->sb.size, code, want);
    msgpack_sbuffer_destroy(&r->sb);
}

static void raw_expect_ok(raw_t *r, proto_msg_t **msg)
{
    char err[256] = "";
    int rc = s_decode(r->sb.data, r->sb.size, msg, err, sizeof err);
    if (rc)
        print_error("unexpected failure %d: %s\n", rc, err);
    assert_int_equal(rc, 0);
    assert_non_null(*msg);
    msgpack_sbuffer_destroy(&r->sb);
}

/* ------------------------------------------------------------------ tests */

static void test_type_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSPEC; i++) {
        assert_string_equal(proto_type_name(s_spec[i].type), s_spec[i].name);
        assert_int_equal(proto_type_from_name(s_spec[i].name), s_spec[i].type);
    }
    assert_int_equal(NSPEC, PROTO_TYPE_COUNT - 1);
    assert_string_equal(proto_type_name(PROTO_INVALID), "?");
    assert_string_equal(proto_type_name(PROTO_TYPE_COUNT), "?");
    assert_int_equal(proto_type_from_name("hello"), PROTO_INVALID);
    assert_int_equal(proto_type_from_name(""), PROTO_INVALID);
    assert_int_equal(proto_type_from_name(NULL), PROTO_INVALID);
}

static void test_roundtrip_all_types(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSPEC; i++) {
        const struct ttype *t = &s_spec[i];
        void *data;
        size_t len, nfields = 0;
        s_build(t, ALL, NULL, NULL, PROTO_VERSION, &data, &len);
        for (const struct tfield *f = t->f; f->key; f++)
            nfields++;
        /* map32 header, count patched at finish */
        const unsigned char *p = data;
        assert_int_equal(p[0], 0xdf);
        assert_int_equal(((uint32_t)p[1] << 24 | p[2] << 16 | p[3] << 8 | p[4]), 2 + nfields);

        proto_msg_t *msg = NULL;
        char err[256] = "";
        int rc = s_decode(data, len, &msg, err, sizeof err);
        if (rc)
            print_error("%s: %s\n", t->name, err);
        assert_int_equal(rc, 0);
        assert_int_equal(proto_msg_type(msg), t->type);
        assert_int_equal(proto_msg_version(msg), PROTO_VERSION);
        for (const struct tfield *f = t->f; f->key; f++)
            s_check_field(msg, f);
        assert_string_equal(proto_str(msg, "type"), t->name);
        proto_msg_destroy(&msg);
        assert_null(msg);
        free(data);
    }
}

static void test_roundtrip_required_only(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSPEC; i++) {
        const struct ttype *t = &s_spec[i];
        void *data;
        size_t len;
        s_build(t, REQUIRED_ONLY, NULL, NULL, PROTO_VERSION, &data, &len);
        proto_msg_t *msg = NULL;
        assert_int_equal(s_decode(data, len, &msg, NULL, 0), 0);
        for (const struct tfield *f = t->f; f->key; f++) {
            if (f->required) {
                s_check_field(msg, f);
                continue;
            }
            assert_false(proto_has(msg, f->key));
            assert_null(proto_str(msg, f->key));
            assert_int_equal(proto_int(msg, f->key, -3), -3);
            assert_int_equal(proto_strarray_count(msg, f->key), 0);
        }
        proto_msg_destroy(&msg);
        free(data);
    }
}

/* WELCOME carries the coordinator's liveness settings, and the worker's
 * silence limit follows them: missed_beats plus the margin, in the
 * coordinator's beats.  A WELCOME without them (an older coordinator)
 * leaves today's defaults: a beat a second, 5 s of silence. */
static void test_welcome_liveness(void **state)
{
    (void)state;
    struct proto_liveness lv;
    proto_builder_t *b = proto_begin(PROTO_WELCOME);
    proto_put_int(b, "run", 7);
    proto_put_int(b, "rank", 0);
    proto_put_str(b, "pub", "tcp://127.0.0.1:5556");
    proto_put_liveness(b, 250, 8);
    void *data;
    size_t len;
    assert_int_equal(proto_finish(&b, &data, &len), 0);
    proto_msg_t *m = NULL;
    assert_int_equal(s_decode(data, len, &m, NULL, 0), 0);
    assert_int_equal(proto_int(m, "hb_ms", 0), 250);
    assert_int_equal(proto_int(m, "missed_beats", 0), 8);
    proto_liveness(m, &lv);
    assert_int_equal(lv.hb_ms, 250);
    assert_int_equal(lv.missed_beats, 8);
    assert_int_equal(lv.silence_ns, (8 + PROTO_SILENCE_MARGIN) * 250 * 1000000LL);
    proto_msg_destroy(&m);
    free(data);

    /* an older coordinator's WELCOME: hb_ms only */
    b = proto_begin(PROTO_WELCOME);
    proto_put_int(b, "run", 7);
    proto_put_int(b, "rank", 0);
    proto_put_str(b, "pub", "tcp://127.0.0.1:5556");
    proto_put_int(b, "hb_ms", 1000);
    assert_int_equal(proto_finish(&b, &data, &len), 0);
    assert_int_equal(s_decode(data, len, &m, NULL, 0), 0);
    proto_liveness(m, &lv);
    assert_int_equal(lv.hb_ms, 1000);
    assert_int_equal(lv.missed_beats, PROTO_MISSED_BEATS);
    assert_int_equal(lv.silence_ns, 5 * 1000000000LL); /* the 5 beats a worker always waited */
    proto_msg_destroy(&m);
    free(data);

    /* before any WELCOME, and nonsense values: the defaults */
    proto_liveness(NULL, &lv);
    assert_int_equal(lv.hb_ms, PROTO_HEARTBEAT_MS);
    assert_int_equal(lv.silence_ns, 5 * 1000000000LL);
    b = proto_begin(PROTO_WELCOME);
    proto_put_int(b, "run", 7);
    proto_put_int(b, "rank", 0);
    proto_put_str(b, "pub", "tcp://127.0.0.1:5556");
    proto_put_liveness(b, 5, 100000);
    assert_int_equal(proto_finish(&b, &data, &len), 0);
    assert_int_equal(s_decode(data, len, &m, NULL, 0), 0);
    proto_liveness(m, &lv);
    assert_int_equal(lv.hb_ms, PROTO_HEARTBEAT_MS);
    assert_int_equal(lv.missed_beats, PROTO_MISSED_BEATS);
    proto_msg_destroy(&m);
    free(data);
}

static void test_values_and_accessor_defaults(void **state)
{
    (void)state;
    proto_builder_t *b = proto_begin(PROTO_HELLO);
    proto_put_str(b, "name", "");
    proto_put_str(b, "platform", "kvm");
    proto_put_str(b, "hostname", "h\xc3\xb6st");
    proto_put_str(b, "kernel", "6.1.0");
    proto_put_str(b, "cpu_model", "AMD EPYC 7B13");
    proto_put_int(b, "cores", INT64_MAX);
    proto_put_int(b, "mem_bytes", INT64_MIN);
    proto_put_int(b, "pid", -1);
    proto_put_str(b, "advertise", NULL); /* NULL leaves the field out */
    proto_put_strarray(b, "caps", NULL, 0);
    proto_put_double(b, "load", 1.25);   /* unknown fields are allowed */
    proto_put_bool(b, "future_flag", false);
    void *data;
    size_t len;
    assert_int_equal(proto_finish(&b, &data, &len), 0);

    proto_msg_t *msg = NULL;
    assert_int_equal(s_decode(data, len, &msg, NULL, 0), 0);
    free(data);
    assert_string_equal(proto_str(msg, "name"), "");
    assert_string_equal(proto_str(msg, "hostname"), "h\xc3\xb6st");
    assert_true(proto_int(msg, "cores", 0) == INT64_MAX);
    assert_true(proto_int(msg, "mem_bytes", 0) == INT64_MIN);
    assert_int_equal(proto_int(msg, "pid", 0), -1);
    assert_false(proto_has(msg, "advertise"));
    assert_true(proto_has(msg, "caps"));
    assert_int_equal(proto_strarray_count(msg, "caps"), 0);
    assert_true(proto_double(msg, "load", 0) == 1.25);
    assert_true(proto_double(msg, "pid", 0) == -1.0); /* ints accepted */
    assert_false(proto_bool(msg, "future_flag", true));
    /* mistyped or absent: defaults */
    assert_null(proto_str(msg, "cores"));
    assert_int_equal(proto_int(msg, "name", 42), 42);
    assert_int_equal(proto_int(msg, "load", 42), 42);
    assert_true(proto_double(msg, "name", 2.5) == 2.5);
    assert_true(proto_bool(msg, "cores", true));
    assert_int_equal(proto_strmap_count(msg, "name"), 0);
    assert_int_equal(proto_strmap_get(msg, "name", 0, NULL, NULL), -1);
    assert_int_equal(proto_strarray_count(msg, "nothing"), 0);
    assert_null(proto_strarray_get(msg, "caps", 0));
    assert_int_equal(proto_metrics_count(msg, "name"), 0);
    assert_int_equal(proto_metrics_get(msg, "caps", 0, NULL), -1);
    assert_null(proto_str(msg, NULL));
    proto_msg_destroy(&msg);

    /* NULL message */
    assert_int_equal(proto_msg_type(NULL), PROTO_INVALID);
    assert_int_equal(proto_msg_version(NULL), 0);
    assert_false(proto_has(NULL, "x"));
    assert_null(proto_str(NULL, "x"));
    assert_int_equal(proto_int(NULL, "x", 9), 9);
    proto_msg_destroy(NULL);
    proto_msg_destroy(&msg);

    /* a metric whose value is an integer is a number */
    raw_t r;
    raw_init(&r);
    raw_head(&r, 10, PROTO_VERSION, "RESULT");
    const char *ints[] = { "run", "phase", "rep", "started_at", "finished_at" };
    for (int i = 0; i < 5; i++) {
        raw_str(&r, ints[i]);
        msgpack_pack_int(&r.pk, i);
    }
    raw_str(&r, "status");
    raw_str(&r, "failed");
    raw_str(&r, "details");
    msgpack_pack_map(&r.pk, 0);
    raw_str(&r, "metrics");
    msgpack_pack_array(&r.pk, 2);
    msgpack_pack_map(&r.pk, 4);
    raw_str(&r, "unit");
    raw_str(&r, "ops");
    raw_str(&r, "value");
    msgpack_pack_int(&r.pk, -7);
    raw_str(&r, "extra");
    msgpack_pack_nil(&r.pk);
    raw_str(&r, "name");
    raw_str(&r, "n");
    msgpack_pack_map(&r.pk, 3);
    raw_str(&r, "name");
    raw_str(&r, "f");
    raw_str(&r, "unit");
    raw_str(&r, "");
    raw_str(&r, "value");
    msgpack_pack_float(&r.pk, 0.5f);
    raw_expect_ok(&r, &msg);
    proto_metric_t m;
    assert_int_equal(proto_metrics_get(msg, "metrics", 0, &m), 0);
    assert_string_equal(m.name, "n");
    assert_string_equal(m.unit, "ops");
    assert_true(m.value == -7.0);
    assert_int_equal(proto_metrics_get(msg, "metrics", 1, &m), 0);
    assert_true(m.value == 0.5);
    assert_string_equal(proto_str(msg, "status"), "failed");
    assert_int_equal(proto_strmap_count(msg, "details"), 0);
    proto_msg_destroy(&msg);
}

static void test_missing_required_fields(void **state)
{
    (void)state;
    int checked = 0;
    for (size_t i = 0; i < NSPEC; i++) {
        const struct ttype *t = &s_spec[i];
        for (const struct tfield *f = t->f; f->key; f++) {
            if (!f->required)
                continue;
            void *data;
            size_t len;
            char want[128];
            s_build(t, ALL, f->key, NULL, PROTO_VERSION, &data, &len);
            snprintf(want, sizeof want, "%s: missing field '%s'", t->name, f->key);
            s_expect(data, len, PROTO_E_SCHEMA, want);
            free(data);
            checked++;
        }
    }
    assert_true(checked > 40);
}

static void test_wrong_field_types(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSPEC; i++) {
        const struct ttype *t = &s_spec[i];
        for (const struct tfield *f = t->f; f->key; f++) {
            void *data;
            size_t len;
            char want[128];
            s_build(t, ALL, NULL, f->key, PROTO_VERSION, &data, &len);
            snprintf(want, sizeof want, "%s: field '%s' must be", t->name, f->key);
            s_expect(data, len, PROTO_E_SCHEMA, want);
            free(data);
        }
    }
    /* the exact wording */
    void *data;
    size_t len;
    char err[256];
    proto_msg_t *msg = NULL;
    s_build(&s_spec[0], ALL, NULL, "cores", PROTO_VERSION, &data, &len);
    assert_int_equal(s_decode(data, len, &msg, err, sizeof err), PROTO_E_SCHEMA);
    assert_string_equal(err, "HELLO: field 'cores' must be an integer");
    free(data);
}

/* A RESULT with all fields but `but`, which the caller packs itself. */
static void s_result_but(raw_t *r, const char *but)
{
    static const char *const keys[] = { "run", "phase", "rep", "status", "started_at",
                                        "finished_at", "metrics", "details" };
    raw_init(r);
    raw_head(r, 10, PROTO_VERSION, "RESULT");
    for (size_t i = 0; i < 8; i++) {
        if (strcmp(keys[i], but) == 0)
            continue;
        raw_str(r, keys[i]);
        if (i == 3)
            raw_str(r, "ok");
        else if (i == 6)
            msgpack_pack_array(&r->pk, 0);
        else if (i == 7)
            msgpack_pack_map(&r->pk, 0);
        else
            msgpack_pack_int(&r->pk, 1);
    }
    raw_str(r, but);
}

static void test_nested_schema(void **state)
{
    (void)state;
    raw_t r;

    s_result_but(&r, "details"); /* a value that is not a string */
    msgpack_pack_map(&r.pk, 1);
    raw_str(&r, "k");
    msgpack_pack_int(&r.pk, 3);
    raw_expect(&r, PROTO_E_SCHEMA, "RESULT: field 'details': value of 'k' is an integer, not a string");

    s_result_but(&r, "details"); /* a key that is not a string */
    msgpack_pack_map(&r.pk, 1);
    msgpack_pack_int(&r.pk, 3);
    raw_str(&r, "v");
    raw_expect(&r, PROTO_E_SCHEMA, "RESULT: field 'details': key 0 is an integer");

    s_result_but(&r, "details"); /* the same key twice */
    msgpack_pack_map(&r.pk, 3);
    raw_str(&r, "a");
    raw_str(&r, "1");
    raw_str(&r, "b");
    raw_str(&r, "2");
    raw_str(&r, "a");
    raw_str(&r, "3");
    raw_expect(&r, PROTO_E_SCHEMA, "RESULT: field 'details' has key 'a' twice");

    s_result_but(&r, "metrics"); /* element not a map */
    msgpack_pack_array(&r.pk, 1);
    raw_str(&r, "cpu");
    raw_expect(&r, PROTO_E_SCHEMA, "RESULT: field 'metrics': element 0 is a string, not a map");

    s_result_but(&r, "metrics"); /* no value */
    msgpack_pack_array(&r.pk, 1);
    msgpack_pack_map(&r.pk, 2);
    raw_str(&r, "name");
    raw_str(&r, "x");
    raw_str(&r, "unit");
    raw_str(&r, "s");
    raw_expect(&r, PROTO_E_SCHEMA, "RESULT: field 'metrics': element 0 has no 'value'");

    s_result_but(&r, "metrics"); /* value is a string */
    msgpack_pack_array(&r.pk, 1);
    msgpack_pack_map(&r.pk, 3);
    raw_str(&r, "name");
    raw_str(&r, "x");
    raw_str(&r, "unit");
    raw_str(&r, "s");
    raw_str(&r, "value");
    raw_str(&r, "1.5");
    raw_expect(&r, PROTO_E_SCHEMA, "RESULT: field 'metrics': element 0: 'value' must be a number");

    s_result_but(&r, "metrics"); /* name is not a string, second element */
    msgpack_pack_array(&r.pk, 2);
    msgpack_pack_map(&r.pk, 3);
    raw_str(&r, "name");
    raw_str(&r, "x");
    raw_str(&r, "unit");
    raw_str(&r, "s");
    raw_str(&r, "value");
    msgpack_pack_double(&r.pk, 1);
    msgpack_pack_map(&r.pk, 3);
    raw_str(&r, "name");
    msgpack_pack_true(&r.pk);
    raw_str(&r, "unit");
    raw_str(&r, "s");
    raw_str(&r, "value");
    msgpack_pack_double(&r.pk, 1);
    raw_expect(&r, PROTO_E_SCHEMA, "RESULT: field 'metrics': element 1: 'name' must be a string");

    s_result_but(&r, "metrics"); /* name twice */
    msgpack_pack_array(&r.pk, 1);
    msgpack_pack_map(&r.pk, 4);
    raw_str(&r, "name");
    raw_str(&r, "x");
    raw_str(&r, "unit");
    raw_str(&r, "s");
    raw_str(&r, "name");
    raw_str(&r, "y");
    raw_str(&r, "value");
    msgpack_pack_double(&r.pk, 1);
    raw_expect(&r, PROTO_E_SCHEMA, "element 0 has 'name' twice");

    s_result_but(&r, "status"); /* not one of the choices */
    raw_str(&r, "maybe");
    raw_expect(&r, PROTO_E_SCHEMA, "RESULT: field 'status' is 'maybe', expected 'ok' or 'failed'");

    s_result_but(&r, "rep"); /* beyond int64 */
    msgpack_pack_uint64(&r.pk, UINT64_MAX);
    raw_expect(&r, PROTO_E_SCHEMA, "RESULT: field 'rep' is 18446744073709551615");

    s_result_but(&r, "rep"); /* a float is not an integer */
    msgpack_pack_double(&r.pk, 1.0);
    raw_expect(&r, PROTO_E_SCHEMA, "RESULT: field 'rep' must be an integer");

    /* a HELLO otherwise complete, with caps ["a", nil] appended */
    void *data;
    size_t len;
    s_build(&s_spec[0], REQUIRED_ONLY, NULL, NULL, PROTO_VERSION, &data, &len);
    s_append(&data, &len, "\xa4" "caps" "\x92\xa1" "a" "\xc0", 9);
    s_expect(data, len, PROTO_E_SCHEMA, "HELLO: field 'caps': element 1 is nil, not a string");
    free(data);
}

static void test_envelope(void **state)
{
    (void)state;
    raw_t r;

    raw_init(&r);
    raw_head(&r, 2, PROTO_VERSION, "FOO");
    raw_expect(&r, PROTO_E_SCHEMA, "unknown message type 'FOO'");

    raw_init(&r); /* hostile type names are quoted, not printed raw */
    raw_head(&r, 2, PROTO_VERSION, "HEL'LO\n");
    raw_expect(&r, PROTO_E_SCHEMA, "unknown message type 'HEL\\x27LO\\x0a'");

    raw_init(&r);
    msgpack_pack_map(&r.pk, 2);
    raw_str(&r, "v");
    msgpack_pack_int(&r.pk, 1);
    raw_str(&r, "type");
    msgpack_pack_int(&r.pk, 1);
    raw_expect(&r, PROTO_E_SCHEMA, "field 'type' must be a string");

    raw_init(&r);
    msgpack_pack_map(&r.pk, 1);
    raw_str(&r, "v");
    msgpack_pack_int(&r.pk, 1);
    raw_expect(&r, PROTO_E_SCHEMA, "missing field 'type'");

    raw_init(&r);
    msgpack_pack_map(&r.pk, 1);
    raw_str(&r, "type");
    raw_str(&r, "QUIT");
    raw_expect(&r, PROTO_E_SCHEMA, "missing field 'v'");

    const int64_t bad_v[] = { 0, -1 };
    for (int i = 0; i < 2; i++) {
        raw_init(&r);
        raw_head(&r, 2, bad_v[i], "QUIT");
        raw_expect(&r, PROTO_E_SCHEMA, "field 'v' must be a positive integer");
    }
    raw_init(&r);
    msgpack_pack_map(&r.pk, 2);
    raw_str(&r, "v");
    raw_str(&r, "1");
    raw_str(&r, "type");
    raw_str(&r, "QUIT");
    raw_expect(&r, PROTO_E_SCHEMA, "field 'v' must be a positive integer");

    raw_init(&r); /* keys must be strings */
    raw_head(&r, 3, PROTO_VERSION, "QUIT");
    msgpack_pack_int(&r.pk, 7);
    raw_str(&r, "x");
    raw_expect(&r, PROTO_E_SCHEMA, "key 2 of the message is an integer, not a string");

    /* the smallest valid message */
    proto_msg_t *msg = NULL;
    raw_init(&r);
    raw_head(&r, 2, PROTO_VERSION, "QUIT");
    raw_expect_ok(&r, &msg);
    assert_int_equal(proto_msg_type(msg), PROTO_QUIT);
    assert_null(proto_str(msg, "reason"));
    proto_msg_destroy(&msg);
}

static void test_wrong_version(void **state)
{
    (void)state;
    void *data;
    size_t len;
    char err[256];
    proto_msg_t *msg = NULL;

    s_build(&s_spec[0], ALL, NULL, NULL, PROTO_VERSION + 1, &data, &len);
    assert_int_equal(s_decode(data, len, &msg, err, sizeof err), PROTO_E_VERSION);
    free(data);
    assert_string_equal(err, "HELLO: protocol version 2, this side speaks 1");
    assert_non_null(msg);
    assert_int_equal(proto_msg_type(msg), PROTO_HELLO);
    assert_int_equal(proto_msg_version(msg), PROTO_VERSION + 1);
    assert_string_equal(proto_str(msg, "name"), "name value \xe2\x9c\x93");
    proto_msg_destroy(&msg);

    /* another version's HELLO is not judged by this version's schema */
    raw_t r;
    raw_init(&r);
    raw_head(&r, 3, 1000, "HELLO");
    raw_str(&r, "cores");
    raw_str(&r, "many");
    raw_expect(&r, PROTO_E_VERSION, "protocol version 1000");

    /* but it is still bounded and NUL-free */
    raw_init(&r);
    raw_head(&r, 3, 2, "HELLO");
    raw_str(&r, "name");
    raw_strn(&r, "a\0b", 3);
    raw_expect(&r, PROTO_E_SCHEMA, "HELLO: field 'name' contains a NUL byte");
}

static void test_reject_any_version(void **state)
{
    (void)state;
    const int64_t versions[] = { PROTO_VERSION, PROTO_VERSION + 1, 99, INT64_MAX };
    for (size_t i = 0; i < 4; i++) {
        proto_builder_t *b = proto_begin_version(PROTO_REJECT, versions[i]);
        proto_put_str(b, "reason", "protocol version 1 required");
        void *data;
        size_t len;
        assert_int_equal(proto_finish(&b, &data, &len), 0);
        proto_msg_t *msg = NULL;
        char err[128] = "";
        assert_int_equal(s_decode(data, len, &msg, err, sizeof err), 0);
        free(data);
        assert_int_equal(proto_msg_type(msg), PROTO_REJECT);
        assert_true(proto_msg_version(msg) == versions[i]);
        assert_string_equal(proto_str(msg, "reason"), "protocol version 1 required");
        proto_msg_destroy(&msg);
    }
    /* REJECT's own shape holds at every version */
    raw_t r;
    raw_init(&r);
    raw_head(&r, 2, 5, "REJECT");
    raw_expect(&r, PROTO_E_SCHEMA, "REJECT: missing field 'reason'");
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    proto_builder_t *b = proto_begin(PROTO_REJECT);
    proto_put_str(b, "reason", "a");
    proto_put_str(b, "reason", "b");
    void *data;
    size_t len;
    assert_int_equal(proto_finish(&b, &data, &len), 0);
    s_expect(data, len, PROTO_E_SCHEMA, "duplicate key 'reason'");
    free(data);

    raw_t r; /* a second "v" could smuggle another version past a reader */
    raw_init(&r);
    raw_head(&r, 3, PROTO_VERSION, "QUIT");
    raw_str(&r, "v");
    msgpack_pack_int(&r.pk, 2);
    raw_expect(&r, PROTO_E_SCHEMA, "duplicate key 'v'");

    /* many distinct keys are fine */
    raw_init(&r);
    raw_head(&r, 2 + 3000, PROTO_VERSION, "QUIT");
    for (int i = 0; i < 3000; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        raw_str(&r, k);
        msgpack_pack_int(&r.pk, i);
    }
    proto_msg_t *msg = NULL;
    raw_expect_ok(&r, &msg);
    assert_int_equal(proto_int(msg, "k2999", 0), 2999);
    proto_msg_destroy(&msg);
}

static void test_nul_bytes(void **state)
{
    (void)state;
    raw_t r;

    raw_init(&r);
    raw_head(&r, 3, PROTO_VERSION, "REJECT");
    raw_str(&r, "reason");
    raw_strn(&r, "bad\0tail", 8);
    raw_expect(&r, PROTO_E_SCHEMA, "REJECT: field 'reason' contains a NUL byte");

    raw_init(&r); /* in a key */
    raw_head(&r, 4, PROTO_VERSION, "REJECT");
    raw_str(&r, "reason");
    raw_str(&r, "x");
    raw_strn(&r, "k\0", 2);
    msgpack_pack_nil(&r.pk);
    raw_expect(&r, PROTO_E_SCHEMA, "key 'k\\x00' contains a NUL byte");

    raw_init(&r); /* deep inside an unknown field */
    raw_head(&r, 4, PROTO_VERSION, "REJECT");
    raw_str(&r, "reason");
    raw_str(&r, "x");
    raw_str(&r, "later");
    msgpack_pack_array(&r.pk, 1);
    msgpack_pack_map(&r.pk, 1);
    raw_str(&r, "k");
    raw_strn(&r, "\0", 1);
    raw_expect(&r, PROTO_E_SCHEMA, "REJECT: field 'later' contains a NUL byte");

    raw_init(&r); /* in a params value */
    raw_head(&r, 3, PROTO_VERSION, "PREPARE");
    raw_str(&r, "params");
    msgpack_pack_map(&r.pk, 1);
    raw_str(&r, "path");
    raw_strn(&r, "/tmp\0/etc", 9);
    raw_expect(&r, PROTO_E_SCHEMA, "PREPARE: field 'params' contains a NUL byte");

    /* a NUL in binary data is just data */
    proto_msg_t *msg = NULL;
    raw_init(&r);
    raw_head(&r, 4, PROTO_VERSION, "REJECT");
    raw_str(&r, "reason");
    raw_str(&r, "x");
    raw_str(&r, "blob");
    msgpack_pack_bin(&r.pk, 3);
    msgpack_pack_bin_body(&r.pk, "\0\0\0", 3);
    raw_expect_ok(&r, &msg);
    proto_msg_destroy(&msg);
}

static void test_empty_and_non_map(void **state)
{
    (void)state;
    proto_msg_t *msg = (proto_msg_t *)1;
    char err[128];
    assert_int_equal(proto_decode(NULL, 0, &msg, err, sizeof err), PROTO_E_MALFORMED);
    assert_null(msg);
    assert_string_equal(err, "empty frame");
    s_expect("", 0, PROTO_E_MALFORMED, "empty frame");
    s_expect("\xc0", 1, PROTO_E_SCHEMA, "message is nil, not a map");
    s_expect("\x01", 1, PROTO_E_SCHEMA, "message is an integer, not a map");
    s_expect("\x92\x01\x02", 3, PROTO_E_SCHEMA, "message is an array, not a map");
    s_expect("\xa3" "abc", 4, PROTO_E_SCHEMA, "message is a string, not a map");
    s_expect("\x80", 1, PROTO_E_SCHEMA, "missing field 'v'");
    s_expect("\xc1", 1, PROTO_E_MALFORMED, "byte 0xc1 at offset 0 is not a msgpack type");
    s_expect("\x91\xc1", 2, PROTO_E_MALFORMED, "byte 0xc1 at offset 1");
}

static void test_trailing_bytes(void **state)
{
    (void)state;
    void *data;
    size_t len;
    s_build(&s_spec[1], ALL, NULL, NULL, PROTO_VERSION, &data, &len);
    unsigned char *more = malloc(2 * len);
    assert_non_null(more);
    memcpy(more, data, len);
    memcpy(more + len, "\x01\x02\x03", 3);
    s_expect(more, len + 3, PROTO_E_MALFORMED, "3 trailing bytes after the message");
    s_expect(more, len + 1, PROTO_E_MALFORMED, "1 trailing byte after the message");
    memcpy(more + len, data, len); /* two messages in one frame */
    s_expect(more, 2 * len, PROTO_E_MALFORMED, "trailing bytes after the message");
    s_expect("\xc0\xc0", 2, PROTO_E_MALFORMED, "1 trailing byte");
    free(more);
    free(data);
}

static void test_length_bombs(void **state)
{
    (void)state;
    char err[256];
    proto_msg_t *msg = NULL;

    /* 5 bytes asking msgpack-c for 2^28 objects */
    assert_int_equal(s_decode("\xdd\x10\x00\x00\x00", 5, &msg, err, sizeof err), PROTO_E_MALFORMED);
    assert_string_equal(err, "array of 268435456 elements declared, 0 bytes left");
    assert_null(msg);
    s_expect("\xdf\xff\xff\xff\xff", 5, PROTO_E_MALFORMED,
             "map of 4294967295 entries declared, 0 bytes left");
    s_expect("\xdc\xff\xff\xc0\xc0", 5, PROTO_E_MALFORMED,
             "array of 65535 elements declared, 2 bytes left");
    s_expect("\xde\x00\x10\xc0", 4, PROTO_E_MALFORMED, "map of 16 entries declared, 1 bytes left");
    /* a map entry is two objects: 3 entries cannot fit in 5 bytes */
    s_expect("\x83\x01\x02\x03\x04\x05", 6, PROTO_E_MALFORMED, "map of 3 entries declared, 5 bytes left");
    s_expect("\xdb\xff\xff\xff\xff" "abc", 8, PROTO_E_MALFORMED,
             "string of 4294967295 bytes declared, 3 bytes left");
    s_expect("\xda\x01\x00" "abc", 6, PROTO_E_MALFORMED, "string of 256 bytes declared, 3 bytes left");
    s_expect("\xa5" "abc", 4, PROTO_E_MALFORMED, "string of 5 bytes declared, 3 bytes left");
    s_expect("\xc6\xff\xff\xff\xff" "ab", 7, PROTO_E_MALFORMED,
             "binary of 4294967295 bytes declared, 2 bytes left");
    s_expect("\xc9\xff\xff\xff\xff\x01", 6, PROTO_E_MALFORMED,
             "extension of 4294967295 bytes (and its type) declared, 1 bytes left");
    s_expect("\xc7\x02\x01\xaa", 4, PROTO_E_MALFORMED, "extension of 2 bytes");
    s_expect("\xd8\x01\x00", 3, PROTO_E_MALFORMED, "truncated");
    s_expect("\xcb\x00\x00", 3, PROTO_E_MALFORMED, "needs 8 more bytes, 2 left");
    s_expect("\xdd\x00\x00", 3, PROTO_E_MALFORMED, "needs 4 more bytes, 2 left");

    /* the bombs inside an otherwise good message */
    static const unsigned char bombs[][5] = {
        { 0xdd, 0x7f, 0xff, 0xff, 0xff }, { 0xdf, 0xff, 0xff, 0xff, 0xff },
        { 0xdb, 0xff, 0xff, 0xff, 0xff }, { 0xc6, 0x7f, 0xff, 0xff, 0xff },
    };
    for (int i = 0; i < 4; i++) {
        raw_t r;
        raw_init(&r);
        raw_head(&r, 3, PROTO_VERSION, "QUIT");
        raw_str(&r, "x");
        raw_bytes(&r, bombs[i], 5);
        raw_bytes(&r, "\xc0\xc0\xc0", 3);
        raw_expect(&r, PROTO_E_MALFORMED, "declared, 3 bytes left");
    }
    /* the header says 3 fields, the body has 2 */
    raw_t r;
    raw_init(&r);
    raw_head(&r, 3, PROTO_VERSION, "QUIT");
    raw_expect(&r, PROTO_E_MALFORMED, "truncated");
}

static void s_nest(raw_t *r, int arrays)
{
    for (int i = 0; i < arrays; i++)
        raw_bytes(r, "\x91", 1);
    raw_bytes(r, "\xc0", 1);
}

static void test_nesting(void **state)
{
    (void)state;
    unsigned char deep[41];
    memset(deep, 0x91, 40);
    deep[40] = 0xc0;
    s_expect(deep, sizeof deep, PROTO_E_LIMIT, "nesting deeper than 8");
    s_expect(deep + 31, 10, PROTO_E_LIMIT, "nesting deeper than 8");    /* 9 arrays */
    s_expect(deep + 32, 9, PROTO_E_SCHEMA, "message is an array"); /* 8 is allowed */

    /* inside a message: the root map is level 1, so 7 more levels fit */
    proto_msg_t *msg = NULL;
    raw_t r;
    raw_init(&r);
    raw_head(&r, 3, PROTO_VERSION, "QUIT");
    raw_str(&r, "deep");
    s_nest(&r, 7);
    raw_expect_ok(&r, &msg);
    proto_msg_destroy(&msg);

    raw_init(&r);
    raw_head(&r, 3, PROTO_VERSION, "QUIT");
    raw_str(&r, "deep");
    s_nest(&r, 8);
    raw_expect(&r, PROTO_E_LIMIT, "nesting deeper than 8");

    raw_init(&r); /* an empty container is still a level */
    raw_head(&r, 3, PROTO_VERSION, "QUIT");
    raw_str(&r, "deep");
    for (int i = 0; i < 7; i++)
        raw_bytes(&r, "\x91", 1);
    raw_bytes(&r, "\x80", 1);
    raw_expect(&r, PROTO_E_LIMIT, "nesting deeper than 8");

    raw_init(&r); /* maps count too, and levels unwind */
    raw_head(&r, 4, PROTO_VERSION, "QUIT");
    raw_str(&r, "a");
    for (int i = 0; i < 7; i++) {
        raw_bytes(&r, "\x81", 1);
        raw_str(&r, "k");
    }
    raw_bytes(&r, "\xc0", 1);
    raw_str(&r, "b");
    s_nest(&r, 7);
    raw_expect_ok(&r, &msg);
    proto_msg_destroy(&msg);
}

static void test_item_limit(void **state)
{
    (void)state;
    /* root (1) + 4 entries (8) + the array's elements */
    const int room = PROTO_MAX_ITEMS - 9;
    for (int extra = 0; extra < 2; extra++) {
        raw_t r;
        raw_init(&r);
        raw_head(&r, 4, PROTO_VERSION, "HEARTBEAT");
        raw_str(&r, "t");
        msgpack_pack_int(&r.pk, 1);
        raw_str(&r, "pad");
        msgpack_pack_array(&r.pk, room + extra);
        for (int i = 0; i < room + extra; i++)
            msgpack_pack_nil(&r.pk);
        if (extra) {
            raw_expect(&r, PROTO_E_LIMIT, "more than 16384 elements in one frame");
        } else {
            proto_msg_t *msg = NULL;
            raw_expect_ok(&r, &msg);
            assert_int_equal(proto_strarray_count(msg, "pad"), room);
            proto_msg_destroy(&msg);
        }
    }
    /* spread over many small containers */
    raw_t r;
    raw_init(&r);
    raw_head(&r, 3, PROTO_VERSION, "QUIT");
    raw_str(&r, "x");
    msgpack_pack_array(&r.pk, 9000);
    for (int i = 0; i < 9000; i++) {
        msgpack_pack_array(&r.pk, 1);
        msgpack_pack_nil(&r.pk);
    }
    raw_expect(&r, PROTO_E_LIMIT, "more than 16384 elements");
}

static void test_string_limit(void **state)
{
    (void)state;
    char *s = malloc(PROTO_MAX_STR + 2);
    assert_non_null(s);
    memset(s, 'a', PROTO_MAX_STR + 1);
    s[PROTO_MAX_STR + 1] = '\0';

    proto_builder_t *b = proto_begin(PROTO_REJECT);
    proto_put_str(b, "reason", s + 1); /* exactly the limit */
    void *data;
    size_t len;
    assert_int_equal(proto_finish(&b, &data, &len), 0);
    proto_msg_t *msg = NULL;
    assert_int_equal(s_decode(data, len, &msg, NULL, 0), 0);
    assert_int_equal(strlen(proto_str(msg, "reason")), PROTO_MAX_STR);
    proto_msg_destroy(&msg);
    free(data);

    b = proto_begin(PROTO_REJECT);
    proto_put_str(b, "reason", s); /* one over */
    assert_int_equal(proto_finish(&b, &data, &len), 0);
    s_expect(data, len, PROTO_E_LIMIT, "string of 16385 bytes, limit 16384");
    free(data);
    free(s);
}

static void test_frame_limit(void **state)
{
    (void)state;
    /* a frame of exactly PROTO_MAX_FRAME decodes; one byte more is refused */
    raw_t r;
    raw_init(&r);
    raw_head(&r, 3, PROTO_VERSION, "QUIT");
    raw_str(&r, "pad");
    size_t body = PROTO_MAX_FRAME - r.sb.size - 5; /* bin32 header */
    unsigned char *zeros = calloc(1, body + 1);
    assert_non_null(zeros);
    raw_bytes(&r, "\xc6", 1);
    unsigned char n4[4] = { (unsigned char)(body >> 24), (unsigned char)(body >> 16),
                            (unsigned char)(body >> 8), (unsigned char)body };
    raw_bytes(&r, n4, 4);
    raw_bytes(&r, zeros, body);
    assert_int_equal(r.sb.size, PROTO_MAX_FRAME);
    proto_msg_t *msg = NULL;
    raw_expect_ok(&r, &msg);
    proto_msg_destroy(&msg);

    unsigned char *big = calloc(1, PROTO_MAX_FRAME + 1);
    assert_non_null(big);
    big[0] = 0xc0; /* whatever it holds */
    s_expect(big, PROTO_MAX_FRAME + 1, PROTO_E_LIMIT, "frame of 1048577 bytes, limit 1048576");
    free(big);

    /* the builder will not produce what the peer would drop */
    memset(zeros, 'z', 16000);
    zeros[16000] = '\0';
    const char *v[70];
    for (int i = 0; i < 70; i++)
        v[i] = (const char *)zeros;
    proto_builder_t *b = proto_begin(PROTO_HELLO);
    proto_put_strarray(b, "caps", v, 70);
    void *data = (void *)1;
    size_t len = 1;
    assert_int_equal(proto_finish(&b, &data, &len), -EMSGSIZE);
    assert_null(b);
    assert_null(data);
    free(zeros);
}

/* Every format msgpack has, in unknown fields: all must pass the scanner. */
static void s_every_format(raw_t *r)
{
    raw_init(r);
    raw_head(r, 2 + 1, PROTO_VERSION, "QUIT");
    raw_str(r, "all");
    static const unsigned char forms[] = {
        0xdd, 0, 0, 0, 37,                 /* array32 of 37 */
        0x00, 0x7f, 0xe0, 0xff,            /* fixints */
        0xc0, 0xc2, 0xc3,                  /* nil false true */
        0xca, 0x3f, 0x80, 0, 0,            /* float32 1.0 */
        0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, /* float64 1.0 */
        0xcc, 0xff, 0xcd, 0xff, 0xff, 0xce, 0, 0, 0, 1, 0xcf, 0, 0, 0, 0, 0, 0, 0, 1,
        0xd0, 0x80, 0xd1, 0x80, 0, 0xd2, 0x80, 0, 0, 0, 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0,
        0xa1, 'a', 0xd9, 1, 'b', 0xda, 0, 1, 'c', 0xdb, 0, 0, 0, 1, 'd',
        0xc4, 1, 0, 0xc5, 0, 1, 0, 0xc6, 0, 0, 0, 1, 0,
        0x90, 0xdc, 0, 1, 0xc0,
        0x81, 0xa1, 'k', 0xc0, 0xde, 0, 1, 0xa1, 'k', 0xc0, 0xdf, 0, 0, 0, 1, 0xa1, 'k', 0xc0,
        0xd4, 1, 0, 0xd5, 1, 0, 0, 0xd6, 1, 0, 0, 0, 0, 0xd7, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        0xd8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0xc7, 1, 5, 0, 0xc8, 0, 1, 5, 0, 0xc9, 0, 0, 0, 1, 5, 0,
    };
    raw_bytes(r, forms, sizeof forms);
}

static void test_every_format_accepted(void **state)
{
    (void)state;
    raw_t r;
    proto_msg_t *msg = NULL;
    s_every_format(&r);
    raw_expect_ok(&r, &msg);
    assert_int_equal(proto_strarray_count(msg, "all"), 37);
    proto_msg_destroy(&msg);
}

/* Every prefix of a valid frame must fail cleanly. */
static void s_all_prefixes(const unsigned char *data, size_t len)
{
    for (size_t n = 0; n < len; n++) {
        proto_msg_t *msg = (proto_msg_t *)1;
        char err[256] = "";
        int rc = s_decode(data, n, &msg, err, sizeof err);
        if (rc == 0)
            print_error("prefix of %zu/%zu bytes decoded\n", n, len);
        assert_true(rc < 0 && rc != PROTO_E_VERSION);
        assert_null(msg);
        assert_true(err[0] != '\0');
    }
}

static void test_truncated_prefixes(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSPEC; i++) {
        void *data;
        size_t len;
        s_build(&s_spec[i], ALL, NULL, NULL, PROTO_VERSION, &data, &len);
        s_all_prefixes(data, len);
        free(data);
    }
    raw_t r;
    s_every_format(&r);
    s_all_prefixes((const unsigned char *)r.sb.data, r.sb.size);
    msgpack_sbuffer_destroy(&r.sb);
}

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;

static uint32_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint32_t)(s_rng >> 16);
}

/* Decodes arbitrary bytes; any outcome but a crash or a bad contract is fine. */
static int s_fuzz_one(const unsigned char *buf, size_t len)
{
    proto_msg_t *msg = (proto_msg_t *)1;
    char err[96];
    int rc = s_decode(buf, len, &msg, err, sizeof err);
    assert_true(rc <= 0 && rc >= PROTO_E_VERSION);
    if (rc == 0 || rc == PROTO_E_VERSION) {
        assert_non_null(msg);
        assert_true(proto_msg_type(msg) > PROTO_INVALID && proto_msg_type(msg) < PROTO_TYPE_COUNT);
        const char *keys[] = { "name", "metrics", "details", "params", "caps", "run", "x" };
        for (int k = 0; k < 7; k++) {
            const char *s = proto_str(msg, keys[k]);
            if (s)
                (void)strlen(s);
            (void)proto_int(msg, keys[k], 0);
            (void)proto_double(msg, keys[k], 0);
            const char *mk, *mv;
            proto_metric_t m;
            for (size_t j = 0; j < proto_strmap_count(msg, keys[k]) && j < 4; j++)
                if (proto_strmap_get(msg, keys[k], j, &mk, &mv) == 0)
                    (void)(strlen(mk) + strlen(mv));
            for (size_t j = 0; j < proto_metrics_count(msg, keys[k]) && j < 4; j++) {
                if (proto_metrics_get(msg, keys[k], j, &m) == 0)
                    (void)(strlen(m.name) + strlen(m.unit));
                (void)proto_strarray_get(msg, keys[k], j);
            }
        }
        proto_msg_destroy(&msg);
    } else {
        assert_null(msg);
    }
    return rc;
}

static void test_random_bytes(void **state)
{
    (void)state;
    unsigned char buf[512];
    int ok = 0;

    /* pure noise, often starting like a map */
    for (int it = 0; it < 20000; it++) {
        size_t len = s_rand() % 64;
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)s_rand();
        if (len && (it & 1))
            buf[0] = (unsigned char)(0x80 | (s_rand() & 0x0f));
        if (s_fuzz_one(buf, len) == 0)
            ok++;
    }

    /* mutations of valid messages of every type */
    for (int it = 0; it < 20000; it++) {
        void *data;
        size_t len;
        s_build(&s_spec[it % NSPEC], ALL, NULL, NULL, PROTO_VERSION, &data, &len);
        assert_true(len <= sizeof buf);
        memcpy(buf, data, len);
        free(data);
        int flips = 1 + (int)(s_rand() % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = s_rand() % len;
            switch (s_rand() % 4) {
            case 0: buf[at] = (unsigned char)s_rand(); break;
            case 1: buf[at] ^= (unsigned char)(1u << (s_rand() % 8)); break;
            case 2: buf[at] = (unsigned char[]){ 0xdd, 0xdf, 0xdb, 0xc6, 0x00, 0xff }[s_rand() % 6]; break;
            default: len = at + 1; break; /* cut */
            }
        }
        if (s_fuzz_one(buf, len) == 0)
            ok++;
    }
    /* some mutations (say, of a string's content) still decode */
    assert_true(ok > 0);
}

static void test_builder_misuse(void **state)
{
    (void)state;
    void *data = (void *)1;
    size_t len = 1;

    assert_null(proto_begin(PROTO_INVALID));
    assert_null(proto_begin(PROTO_TYPE_COUNT));
    proto_put_str(NULL, "k", "v");
    proto_put_int(NULL, "k", 1);
    proto_put_metrics(NULL, "k", s_metrics, 3);
    assert_int_equal(proto_finish(NULL, &data, &len), -EINVAL);
    proto_builder_t *b = NULL;
    assert_int_equal(proto_finish(&b, &data, &len), -EINVAL);
    assert_null(data);

    /* "v" and "type" belong to the envelope */
    b = proto_begin(PROTO_QUIT);
    proto_put_int(b, "v", 2);
    assert_int_equal(proto_finish(&b, &data, &len), -EINVAL);
    assert_null(b);
    b = proto_begin(PROTO_QUIT);
    proto_put_str(b, "type", "HELLO");
    assert_int_equal(proto_finish(&b, &data, &len), -EINVAL);
    b = proto_begin(PROTO_QUIT);
    proto_put_str(b, NULL, "x");
    assert_int_equal(proto_finish(&b, &data, &len), -EINVAL);

    /* destroy without finishing */
    b = proto_begin(PROTO_QUIT);
    proto_put_str(b, "reason", "bye");
    proto_builder_destroy(&b);
    assert_null(b);
    proto_builder_destroy(&b);
    proto_builder_destroy(NULL);

    /* NULL entries in a map or array travel as "" */
    const char *keys[] = { "a", NULL };
    const char *vals[] = { NULL, "b" };
    const char *k, *v;
    b = proto_begin(PROTO_QUIT);
    proto_put_strmap(b, "params", keys, vals, 2);
    assert_int_equal(proto_finish(&b, &data, &len), 0);
    proto_msg_t *msg = NULL;
    assert_int_equal(s_decode(data, len, &msg, NULL, 0), 0);
    free(data);
    assert_int_equal(proto_strmap_get(msg, "params", 0, &k, &v), 0);
    assert_string_equal(k, "a");
    assert_string_equal(v, "");
    assert_int_equal(proto_strmap_get(msg, "params", 1, &k, &v), 0);
    assert_string_equal(k, "");
    assert_string_equal(v, "b");
    proto_msg_destroy(&msg);
}

static void test_err_buffer(void **state)
{
    (void)state;
    proto_msg_t *msg = NULL;
    assert_int_equal(proto_decode("\xdd\x10\x00\x00\x00", 5, &msg, NULL, 0), PROTO_E_MALFORMED);
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(proto_decode("\xdd\x10\x00\x00\x00", 5, &msg, small, sizeof small),
                     PROTO_E_MALFORMED);
    assert_string_equal(small, "array o");
    assert_int_equal(proto_decode("\xc0", 1, NULL, small, sizeof small), PROTO_E_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_roundtrip_all_types),
        cmocka_unit_test(test_roundtrip_required_only),
        cmocka_unit_test(test_welcome_liveness),
        cmocka_unit_test(test_values_and_accessor_defaults),
        cmocka_unit_test(test_missing_required_fields),
        cmocka_unit_test(test_wrong_field_types),
        cmocka_unit_test(test_nested_schema),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_wrong_version),
        cmocka_unit_test(test_reject_any_version),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_empty_and_non_map),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_length_bombs),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_item_limit),
        cmocka_unit_test(test_string_limit),
        cmocka_unit_test(test_frame_limit),
        cmocka_unit_test(test_every_format_accepted),
        cmocka_unit_test(test_truncated_prefixes),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_builder_misuse),
        cmocka_unit_test(test_err_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
