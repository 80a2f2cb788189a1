/* proto.c — the lockstep wire codec.  Builders pack one MessagePack map per
 * frame; the decoder proves a frame is bounded, well formed and shaped like
 * its message type before anyone reads a field.  proto.h is the contract;
 * the per-type field table below is the schema. */

#include "proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

/* ------------------------------------------------------------------ schema */

typedef enum {
    F_STR,       /* string (no NUL bytes) */
    F_INT,       /* integer that fits int64_t */
    F_DOUBLE,    /* float or integer */
    F_BOOL,
    F_STRMAP,    /* map string -> string, keys unique */
    F_STRARRAY,  /* array of strings */
    F_METRICS,   /* array of maps {name: str, unit: str, value: number} */
} s_kind_t;

typedef struct {
    const char *key;
    s_kind_t kind;
    bool required;
    const char *const *choices; /* F_STR: allowed values, NULL-terminated; NULL = any */
} s_field_t;

#define REQ(k, t) { (k), (t), true, NULL }
#define OPT(k, t) { (k), (t), false, NULL }
#define END { NULL, F_STR, false, NULL }
/* run: the coordinator's run id; phase: index of the phase in the experiment
 * (0-based); rep: repetition (0-based).  All times are nanoseconds. */
#define RUN_PHASE_REP REQ("run", F_INT), REQ("phase", F_INT), REQ("rep", F_INT)

static const char *const s_status_choices[] = { "ok", "failed", NULL };

static const s_field_t s_hello[] = {
    REQ("name", F_STR),      REQ("platform", F_STR), REQ("hostname", F_STR),
    REQ("kernel", F_STR),    REQ("cpu_model", F_STR), REQ("cores", F_INT),
    REQ("mem_bytes", F_INT), REQ("pid", F_INT),      OPT("advertise", F_STR),
    OPT("caps", F_STRARRAY), OPT("epoch", F_INT),    OPT("detected", F_STR),
    OPT("distro", F_STR),    OPT("disk_model", F_STR), OPT("labels", F_STRARRAY),
    OPT("coord_host", F_STR), END
};
static const s_field_t s_welcome[] = {
    REQ("run", F_INT), REQ("rank", F_INT), REQ("pub", F_STR), REQ("hb_ms", F_INT),
    OPT("epoch", F_INT), OPT("boot_id", F_STR), OPT("missed_beats", F_INT), END
};
static const s_field_t s_reject[] = { REQ("reason", F_STR), END };
static const s_field_t s_sync[] = { REQ("run", F_INT), REQ("nonce", F_INT), END };
static const s_field_t s_sync_ok[] = { REQ("nonce", F_INT), END };
static const s_field_t s_ping[] = { REQ("seq", F_INT), REQ("t0", F_INT), END };
static const s_field_t s_pong[] = { REQ("seq", F_INT), REQ("t0", F_INT), REQ("tc", F_INT), END };
static const s_field_t s_prepare[] = {
    RUN_PHASE_REP,           REQ("bench", F_STR), REQ("params", F_STRMAP),
    REQ("timeout_ms", F_INT), OPT("role", F_STR), OPT("peer", F_STR), END
};
static const s_field_t s_ready[] = {
    RUN_PHASE_REP,           REQ("ok", F_BOOL), OPT("error", F_STR),
    REQ("offset_ns", F_INT), REQ("offset_err_ns", F_INT), OPT("endpoint", F_STR),
    OPT("epoch", F_INT),     END
};
static const s_field_t s_go[] = { RUN_PHASE_REP, REQ("start_at", F_INT), END };
static const s_field_t s_result[] = {
    RUN_PHASE_REP,
    { "status", F_STR, true, s_status_choices },
    REQ("started_at", F_INT),
    REQ("finished_at", F_INT),
    REQ("metrics", F_METRICS),
    REQ("details", F_STRMAP),
    OPT("error", F_STR),
    OPT("epoch", F_INT),
    OPT("stalled_ns", F_INT),
    END
};
static const s_field_t s_ack[] = { RUN_PHASE_REP, OPT("refused", F_STR), END };
static const s_field_t s_heartbeat[] = { REQ("t", F_INT), OPT("run", F_INT), END };
static const s_field_t s_stop[] = { RUN_PHASE_REP, END };
static const s_field_t s_quit[] = { OPT("reason", F_STR), OPT("rejoin", F_BOOL), END };

static const struct {
    const char *name;
    const s_field_t *fields;
} s_types[PROTO_TYPE_COUNT] = {
    [PROTO_HELLO] = { "HELLO", s_hello },
    [PROTO_WELCOME] = { "WELCOME", s_welcome },
    [PROTO_REJECT] = { "REJECT", s_reject },
    [PROTO_SYNC] = { "SYNC", s_sync },
    [PROTO_SYNC_OK] = { "SYNC_OK", s_sync_ok },
    [PROTO_PING] = { "PING", s_ping },
    [PROTO_PONG] = { "PONG", s_pong },
    [PROTO_PREPARE] = { "PREPARE", s_prepare },
    [PROTO_READY] = { "READY", s_ready },
    [PROTO_GO] = { "GO", s_go },
    [PROTO_RESULT] = { "RESULT", s_result },
    [PROTO_ACK] = { "ACK", s_ack },
    [PROTO_HEARTBEAT] = { "HEARTBEAT", s_heartbeat },
    [PROTO_QUIT] = { "QUIT", s_quit },
    [PROTO_STOP] = { "STOP", s_stop },
};

const char *proto_type_name(proto_type_t type)
{
    if (type <= PROTO_INVALID || type >= PROTO_TYPE_COUNT)
        return "?";
    return s_types[type].name;
}

static proto_type_t s_type_lookup(const char *name, size_t len)
{
    for (int t = PROTO_INVALID + 1; t < PROTO_TYPE_COUNT; t++)
        if (strlen(s_types[t].name) == len && memcmp(s_types[t].name, name, len) == 0)
            return (proto_type_t)t;
    return PROTO_INVALID;
}

proto_type_t proto_type_from_name(const char *name)
{
    return name ? s_type_lookup(name, strlen(name)) : PROTO_INVALID;
}

/* ---------------------------------------------------------------- encoding */

struct proto_builder {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    uint32_t nfields;   /* patched into the map32 header by proto_finish */
    int error;          /* first failure (negative errno), reported by proto_finish */
};

proto_builder_t *proto_begin(proto_type_t type)
{
    return proto_begin_version(type, PROTO_VERSION);
}

static int s_pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    if (n > UINT32_MAX)
        return -1;
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n) ? -1 : 0;
}

/* Packs a key; false (and the builder marked failed) if the field can't go in. */
static bool s_key(proto_builder_t *b, const char *key)
{
    if (!b || b->error)
        return false;
    if (!key || strcmp(key, "v") == 0 || strcmp(key, "type") == 0 || b->nfields == UINT32_MAX) {
        b->error = -EINVAL;
        return false;
    }
    if (s_pack_cstr(&b->pk, key)) {
        b->error = -ENOMEM;
        return false;
    }
    return true;
}

/* Records the outcome of packing one value. */
static void s_done(proto_builder_t *b, int rc)
{
    if (rc)
        b->error = -ENOMEM;
    else
        b->nfields++;
}

proto_builder_t *proto_begin_version(proto_type_t type, int64_t version)
{
    if (type <= PROTO_INVALID || type >= PROTO_TYPE_COUNT)
        return NULL;
    proto_builder_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    msgpack_sbuffer_init(&b->sbuf);
    msgpack_packer_init(&b->pk, &b->sbuf, msgpack_sbuffer_write);
    /* map32 with a zero count; the real count is written at finish */
    static const char header[5] = { (char)0xdf, 0, 0, 0, 0 };
    if (msgpack_sbuffer_write(&b->sbuf, header, sizeof header) || s_pack_cstr(&b->pk, "v")
        || msgpack_pack_int64(&b->pk, version) || s_pack_cstr(&b->pk, "type")
        || s_pack_cstr(&b->pk, s_types[type].name)) {
        proto_builder_destroy(&b);
        return NULL;
    }
    b->nfields = 2;
    return b;
}

/* A NULL value leaves the field out, so optional fields can be passed as-is. */
void proto_put_str(proto_builder_t *b, const char *key, const char *value)
{
    if (!value || !s_key(b, key))
        return;
    s_done(b, s_pack_cstr(&b->pk, value));
}

void proto_put_int(proto_builder_t *b, const char *key, int64_t value)
{
    if (s_key(b, key))
        s_done(b, msgpack_pack_int64(&b->pk, value));
}

void proto_put_double(proto_builder_t *b, const char *key, double value)
{
    if (s_key(b, key))
        s_done(b, msgpack_pack_double(&b->pk, value));
}

void proto_put_bool(proto_builder_t *b, const char *key, bool value)
{
    if (s_key(b, key))
        s_done(b, value ? msgpack_pack_true(&b->pk) : msgpack_pack_false(&b->pk));
}

/* NULL entries inside maps and arrays are packed as "" (a programmer error,
 * but the peer still gets a message its schema accepts). */
static int s_pack_cstr_or_empty(msgpack_packer *pk, const char *s)
{
    return s_pack_cstr(pk, s ? s : "");
}

void proto_put_strmap(proto_builder_t *b, const char *key, const char *const *keys,
                      const char *const *vals, size_t n)
{
    if (!s_key(b, key))
        return;
    int rc = n > UINT32_MAX || ((!keys || !vals) && n > 0) || msgpack_pack_map(&b->pk, n);
    for (size_t i = 0; i < n && !rc; i++)
        rc = s_pack_cstr_or_empty(&b->pk, keys[i]) || s_pack_cstr_or_empty(&b->pk, vals[i]);
    s_done(b, rc);
}

void proto_put_strarray(proto_builder_t *b, const char *key, const char *const *vals, size_t n)
{
    if (!s_key(b, key))
        return;
    int rc = n > UINT32_MAX || (!vals && n > 0) || msgpack_pack_array(&b->pk, n);
    for (size_t i = 0; i < n && !rc; i++)
        rc = s_pack_cstr_or_empty(&b->pk, vals[i]);
    s_done(b, rc);
}

void proto_put_metrics(proto_builder_t *b, const char *key, const proto_metric_t *m, size_t n)
{
    if (!s_key(b, key))
        return;
    int rc = n > UINT32_MAX || (!m && n > 0) || msgpack_pack_array(&b->pk, n);
    for (size_t i = 0; i < n && !rc; i++)
        rc = msgpack_pack_map(&b->pk, 3) || s_pack_cstr(&b->pk, "name")
             || s_pack_cstr_or_empty(&b->pk, m[i].name) || s_pack_cstr(&b->pk, "unit")
             || s_pack_cstr_or_empty(&b->pk, m[i].unit) || s_pack_cstr(&b->pk, "value")
             || msgpack_pack_double(&b->pk, m[i].value);
    s_done(b, rc);
}

/* Fails with -EINVAL (bad key, NULL builder), -ENOMEM, or -EMSGSIZE when the
 * frame would exceed PROTO_MAX_FRAME (the peer would drop it). */
int proto_finish(proto_builder_t **b_p, void **data_p, size_t *len_p)
{
    if (data_p)
        *data_p = NULL;
    if (len_p)
        *len_p = 0;
    if (!b_p || !*b_p || !data_p || !len_p) {
        proto_builder_destroy(b_p);
        return -EINVAL;
    }
    proto_builder_t *b = *b_p;
    int rc = b->error;
    if (!rc && b->sbuf.size > PROTO_MAX_FRAME)
        rc = -EMSGSIZE;
    if (rc) {
        proto_builder_destroy(b_p);
        return rc;
    }
    unsigned char *h = (unsigned char *)b->sbuf.data;
    h[1] = (unsigned char)(b->nfields >> 24);
    h[2] = (unsigned char)(b->nfields >> 16);
    h[3] = (unsigned char)(b->nfields >> 8);
    h[4] = (unsigned char)b->nfields;
    *len_p = b->sbuf.size;
    *data_p = msgpack_sbuffer_release(&b->sbuf);
    proto_builder_destroy(b_p);
    return 0;
}

void proto_builder_destroy(proto_builder_t **b_p)
{
    if (!b_p || !*b_p)
        return;
    msgpack_sbuffer_destroy(&(*b_p)->sbuf);
    free(*b_p);
    *b_p = NULL;
}

/* ----------------------------------------------------------------- errors */

static int s_fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int s_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Hostile bytes made printable for an error message, cut after 40. */
static const char *s_quote(char *buf, size_t size, const char *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < size; i++) {
        unsigned char c = (unsigned char)p[i];
        if (i == 40) {
            o += (size_t)snprintf(buf + o, size - o, "...");
            break;
        }
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
            buf[o++] = (char)c;
        else
            o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
    }
    buf[o] = '\0';
    return buf;
}

static const char *s_what(msgpack_object_type t)
{
    switch (t) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "a float";
    case MSGPACK_OBJECT_STR: return "a string";
    case MSGPACK_OBJECT_ARRAY: return "an array";
    case MSGPACK_OBJECT_MAP: return "a map";
    case MSGPACK_OBJECT_BIN: return "binary data";
    case MSGPACK_OBJECT_EXT: return "an extension";
    }
    return "unknown";
}

/* ------------------------------------------------------- raw byte scanner */

enum { S_SCALAR, S_STR, S_BIN, S_EXT, S_ARRAY, S_MAP };

/* Walks the frame without msgpack-c: every declared length must fit in the
 * bytes left (a container's count too, each element taking at least one
 * byte), nesting, element count and string sizes stay within the limits,
 * and exactly one object fills the frame. */
/* A msgpack type byte's shape: what it is, a length in the byte itself
 * (n) or in lenbytes big-endian bytes after it, and fixed payload bytes. */
struct s_head {
    int what;
    uint64_t n;
    unsigned lenbytes, fixed;
};

/* Classify type byte c.  0, or -1 for the one byte that is no type (0xc1). */
static int s_head(unsigned char c, struct s_head *h)
{
    *h = (struct s_head){ .what = S_SCALAR };
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        ;
    else if (c <= 0x8f)
        h->what = S_MAP, h->n = c & 0x0f;
    else if (c <= 0x9f)
        h->what = S_ARRAY, h->n = c & 0x0f;
    else if (c <= 0xbf)
        h->what = S_STR, h->n = c & 0x1f;
    else
        switch (c) {
        case 0xc4: h->what = S_BIN, h->lenbytes = 1; break;
        case 0xc5: h->what = S_BIN, h->lenbytes = 2; break;
        case 0xc6: h->what = S_BIN, h->lenbytes = 4; break;
        case 0xc7: h->what = S_EXT, h->lenbytes = 1; break;
        case 0xc8: h->what = S_EXT, h->lenbytes = 2; break;
        case 0xc9: h->what = S_EXT, h->lenbytes = 4; break;
        case 0xca: h->fixed = 4; break;                 /* float32 */
        case 0xcb: h->fixed = 8; break;                 /* float64 */
        case 0xcc: case 0xd0: h->fixed = 1; break;      /* (u)int8 */
        case 0xcd: case 0xd1: h->fixed = 2; break;
        case 0xce: case 0xd2: h->fixed = 4; break;
        case 0xcf: case 0xd3: h->fixed = 8; break;
        case 0xd4: h->fixed = 1 + 1; break;             /* fixext: type + data */
        case 0xd5: h->fixed = 1 + 2; break;
        case 0xd6: h->fixed = 1 + 4; break;
        case 0xd7: h->fixed = 1 + 8; break;
        case 0xd8: h->fixed = 1 + 16; break;
        case 0xd9: h->what = S_STR, h->lenbytes = 1; break;
        case 0xda: h->what = S_STR, h->lenbytes = 2; break;
        case 0xdb: h->what = S_STR, h->lenbytes = 4; break;
        case 0xdc: h->what = S_ARRAY, h->lenbytes = 2; break;
        case 0xdd: h->what = S_ARRAY, h->lenbytes = 4; break;
        case 0xde: h->what = S_MAP, h->lenbytes = 2; break;
        case 0xdf: h->what = S_MAP, h->lenbytes = 4; break;
        default: /* 0xc1 */
            return -1;
        }
    return 0;
}

/* What follows a header with n, with left bytes left at depth: *skip bytes
 * of a str/bin/ext payload, or *inner objects of an array/map (counted
 * into *items).  0, or the failure. */
static int s_payload(const struct s_head *h, uint64_t n, size_t left, int depth, uint64_t *items,
                     uint64_t *skip, uint64_t *inner, char *err, size_t errlen)
{
    int what = h->what;
    switch (what) {
    case S_STR:
        if (n > left)
            return s_fail(err, errlen, PROTO_E_MALFORMED,
                          "string of %" PRIu64 " bytes declared, %zu bytes left", n, left);
        if (n > PROTO_MAX_STR)
            return s_fail(err, errlen, PROTO_E_LIMIT,
                          "string of %" PRIu64 " bytes, limit %d", n, PROTO_MAX_STR);
        *skip = n;
        return 0;
    case S_BIN:
        if (n > left)
            return s_fail(err, errlen, PROTO_E_MALFORMED,
                          "binary of %" PRIu64 " bytes declared, %zu bytes left", n, left);
        *skip = n;
        return 0;
    case S_EXT:
        if (n + 1 > left)
            return s_fail(err, errlen, PROTO_E_MALFORMED,
                          "extension of %" PRIu64 " bytes (and its type) declared, %zu bytes left",
                          n, left);
        *skip = n + 1;
        return 0;
    case S_ARRAY:
    case S_MAP: {
        uint64_t need = what == S_MAP ? 2 * n : n; /* objects inside, >= 1 byte each */
        if (need > left)
            return s_fail(err, errlen, PROTO_E_MALFORMED,
                          "%s of %" PRIu64 " %s declared, %zu bytes left",
                          what == S_MAP ? "map" : "array", n,
                          what == S_MAP ? "entries" : "elements", left);
        if (depth + 1 > PROTO_MAX_DEPTH)
            return s_fail(err, errlen, PROTO_E_LIMIT, "nesting deeper than %d",
                          PROTO_MAX_DEPTH);
        *items += need;
        if (*items > PROTO_MAX_ITEMS)
            return s_fail(err, errlen, PROTO_E_LIMIT, "more than %d elements in one frame",
                          PROTO_MAX_ITEMS);
        *inner = need;
        return 0;
    }
    default:
        return 0;
    }
}

static int s_scan(const unsigned char *p, size_t len, char *err, size_t errlen)
{
    uint64_t todo[PROTO_MAX_DEPTH + 1]; /* objects still to read per open container;
                                           [0] is the frame itself */
    int depth = 0;
    size_t pos = 0;
    uint64_t items = 1;

    todo[0] = 1;
    for (;;) {
        while (depth > 0 && todo[depth] == 0)
            depth--;
        if (todo[depth] == 0)
            break;
        todo[depth]--;
        if (pos >= len)
            return s_fail(err, errlen, PROTO_E_MALFORMED,
                          "message truncated at offset %zu: %" PRIu64 " more element(s) expected",
                          pos, todo[depth] + 1);
        size_t at = pos;
        unsigned char c = p[pos++];
        struct s_head h;
        if (s_head(c, &h) != 0)
            return s_fail(err, errlen, PROTO_E_MALFORMED,
                          "byte 0x%02x at offset %zu is not a msgpack type", c, at);
        size_t left = len - pos;
        if (h.lenbytes > left || h.fixed > left)
            return s_fail(err, errlen, PROTO_E_MALFORMED,
                          "message truncated at offset %zu: type 0x%02x needs %u more bytes, %zu left",
                          at, c, h.lenbytes + h.fixed, left);
        uint64_t n = h.n, skip = 0, inner = 0;
        for (unsigned i = 0; i < h.lenbytes; i++)
            n = n << 8 | p[pos + i];
        pos += h.lenbytes + h.fixed;
        int rc = s_payload(&h, n, len - pos, depth, &items, &skip, &inner, err, errlen);
        if (rc != 0)
            return rc;
        pos += skip;
        if (inner > 0)
            todo[++depth] = inner;
    }
    if (pos < len)
        return s_fail(err, errlen, PROTO_E_MALFORMED, "%zu trailing byte%s after the message",
                      len - pos, len - pos == 1 ? "" : "s");
    return 0;
}

/* ---------------------------------------------------------------- decoding */

struct proto_msg {
    msgpack_unpacked up;             /* the object tree and its zone */
    const msgpack_object_map *root;
    proto_type_t type;
    int64_t version;
};

/* Context of one decode, for error messages. */
typedef struct {
    msgpack_zone *zone;
    const char *tname;  /* message type name, or "message" before it is known */
    char *err;
    size_t errlen;
} s_dec_t;

/* msgpack-c leaves str/bin/ext pointing into the caller's frame; give each a
 * copy in the message's zone (strings NUL-terminated, NUL inside refused). */
static int s_own(s_dec_t *d, msgpack_object *o, const char *field)
{
    switch (o->type) {
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN:
    case MSGPACK_OBJECT_EXT: {
        const char **ptr = o->type == MSGPACK_OBJECT_STR   ? &o->via.str.ptr
                           : o->type == MSGPACK_OBJECT_BIN ? &o->via.bin.ptr
                                                           : &o->via.ext.ptr;
        uint32_t size = o->type == MSGPACK_OBJECT_STR   ? o->via.str.size
                        : o->type == MSGPACK_OBJECT_BIN ? o->via.bin.size
                                                        : o->via.ext.size;
        if (o->type == MSGPACK_OBJECT_STR && size && memchr(*ptr, '\0', size)) {
            char q[200];
            if (!field)
                return s_fail(d->err, d->errlen, PROTO_E_SCHEMA, "key '%s' contains a NUL byte",
                              s_quote(q, sizeof q, *ptr, size));
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                          "%s: field '%s' contains a NUL byte", d->tname, field);
        }
        char *copy = msgpack_zone_malloc_no_align(d->zone, (size_t)size + 1);
        if (!copy)
            return s_fail(d->err, d->errlen, PROTO_E_LIMIT, "out of memory");
        if (size > 0)
            memcpy(copy, *ptr, size);
        copy[size] = '\0';
        *ptr = copy;
        return 0;
    }
    case MSGPACK_OBJECT_ARRAY: /* depth is bounded by the scanner */
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            int rc = s_own(d, &o->via.array.ptr[i], field);
            if (rc)
                return rc;
        }
        return 0;
    case MSGPACK_OBJECT_MAP:
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            int rc = s_own(d, &o->via.map.ptr[i].key, field);
            if (!rc)
                rc = s_own(d, &o->via.map.ptr[i].val, field);
            if (rc)
                return rc;
        }
        return 0;
    default:
        return 0;
    }
}

static int s_keycmp(const void *a, const void *b)
{
    const msgpack_object_str *x = &(*(const msgpack_object_kv *const *)a)->key.via.str;
    const msgpack_object_str *y = &(*(const msgpack_object_kv *const *)b)->key.via.str;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return memcmp(x->ptr, y->ptr, x->size);
}

/* Index of an entry whose (string) key occurs twice, -1 if none, -2 on
 * allocation failure.  Sorting keeps a hostile 8000-key map cheap. */
static int64_t s_find_dup(const msgpack_object_map *m)
{
    if (m->size < 2)
        return -1;
    const msgpack_object_kv **v = malloc(m->size * sizeof *v);
    if (!v)
        return -2;
    for (uint32_t i = 0; i < m->size; i++)
        v[i] = &m->ptr[i];
    qsort(v, m->size, sizeof *v, s_keycmp);
    int64_t dup = -1;
    for (uint32_t i = 1; i < m->size && dup < 0; i++)
        if (s_keycmp(&v[i - 1], &v[i]) == 0)
            dup = v[i] - m->ptr;
    free(v);
    return dup;
}

static bool s_key_is(const msgpack_object *k, const char *key)
{
    size_t n = strlen(key);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n
           && memcmp(k->via.str.ptr, key, n) == 0;
}

static const msgpack_object *s_get(const msgpack_object_map *m, const char *key)
{
    for (uint32_t i = 0; i < m->size; i++)
        if (s_key_is(&m->ptr[i].key, key))
            return &m->ptr[i].val;
    return NULL;
}

static bool s_is_int(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER
           || (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX);
}

static bool s_is_number(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER
           || o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64;
}

static double s_number(const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (double)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return (double)o->via.i64;
    return o->via.f64;
}

static int s_check_metric(s_dec_t *d, const char *field, uint32_t idx, const msgpack_object *o)
{
    static const char *const keys[3] = { "name", "unit", "value" };
    const msgpack_object *found[3] = { NULL, NULL, NULL };

    if (o->type != MSGPACK_OBJECT_MAP)
        return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                      "%s: field '%s': element %" PRIu32 " is %s, not a map", d->tname, field,
                      idx, s_what(o->type));
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR)
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                          "%s: field '%s': element %" PRIu32 " has a key that is not a string",
                          d->tname, field, idx);
        for (int k = 0; k < 3; k++) {
            if (!s_key_is(&kv->key, keys[k]))
                continue;
            if (found[k])
                return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                              "%s: field '%s': element %" PRIu32 " has '%s' twice", d->tname,
                              field, idx, keys[k]);
            found[k] = &kv->val;
        }
    }
    for (int k = 0; k < 3; k++) {
        if (!found[k])
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                          "%s: field '%s': element %" PRIu32 " has no '%s'", d->tname, field,
                          idx, keys[k]);
        bool ok = k < 2 ? found[k]->type == MSGPACK_OBJECT_STR : s_is_number(found[k]);
        if (!ok)
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                          "%s: field '%s': element %" PRIu32 ": '%s' must be %s", d->tname,
                          field, idx, keys[k], k < 2 ? "a string" : "a number");
    }
    return 0;
}

static int s_check_field(s_dec_t *d, const s_field_t *f, const msgpack_object *o)
{
    const char *t = d->tname, *k = f->key;
    char q[200];

    switch (f->kind) {
    case F_STR:
        if (o->type != MSGPACK_OBJECT_STR)
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA, "%s: field '%s' must be a string", t, k);
        if (f->choices) {
            for (const char *const *c = f->choices; *c; c++)
                if (strcmp(*c, o->via.str.ptr) == 0)
                    return 0;
            char list[160] = "";
            for (const char *const *c = f->choices; *c; c++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'",
                         c == f->choices ? "" : c[1] ? ", " : " or ", *c);
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA, "%s: field '%s' is '%s', expected %s",
                          t, k, s_quote(q, sizeof q, o->via.str.ptr, o->via.str.size), list);
        }
        return 0;
    case F_INT:
        if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && !s_is_int(o))
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                          "%s: field '%s' is %" PRIu64 ", beyond a 64-bit signed integer", t, k,
                          o->via.u64);
        if (!s_is_int(o))
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA, "%s: field '%s' must be an integer",
                          t, k);
        return 0;
    case F_DOUBLE:
        if (!s_is_number(o))
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA, "%s: field '%s' must be a number", t, k);
        return 0;
    case F_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA, "%s: field '%s' must be a boolean", t, k);
        return 0;
    case F_STRMAP: {
        if (o->type != MSGPACK_OBJECT_MAP)
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                          "%s: field '%s' must be a map of strings to strings", t, k);
        const msgpack_object_map *m = &o->via.map;
        for (uint32_t i = 0; i < m->size; i++) {
            if (m->ptr[i].key.type != MSGPACK_OBJECT_STR)
                return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                              "%s: field '%s': key %" PRIu32 " is %s, not a string", t, k, i,
                              s_what(m->ptr[i].key.type));
            if (m->ptr[i].val.type != MSGPACK_OBJECT_STR)
                return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                              "%s: field '%s': value of '%s' is %s, not a string", t, k,
                              s_quote(q, sizeof q, m->ptr[i].key.via.str.ptr,
                                      m->ptr[i].key.via.str.size),
                              s_what(m->ptr[i].val.type));
        }
        int64_t dup = s_find_dup(m);
        if (dup == -2)
            return s_fail(d->err, d->errlen, PROTO_E_LIMIT, "out of memory");
        if (dup >= 0)
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA, "%s: field '%s' has key '%s' twice",
                          t, k,
                          s_quote(q, sizeof q, m->ptr[dup].key.via.str.ptr,
                                  m->ptr[dup].key.via.str.size));
        return 0;
    }
    case F_STRARRAY:
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                          "%s: field '%s' must be an array of strings", t, k);
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (o->via.array.ptr[i].type != MSGPACK_OBJECT_STR)
                return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                              "%s: field '%s': element %" PRIu32 " is %s, not a string", t, k, i,
                              s_what(o->via.array.ptr[i].type));
        return 0;
    case F_METRICS:
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return s_fail(d->err, d->errlen, PROTO_E_SCHEMA,
                          "%s: field '%s' must be an array of metrics", t, k);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            int rc = s_check_metric(d, k, i, &o->via.array.ptr[i]);
            if (rc)
                return rc;
        }
        return 0;
    }
    return 0;
}

/* Everything after the byte scan: root shape, "v" and "type", string
 * ownership, version, then the type's schema. */
static int s_check(proto_msg_t *msg, char *err, size_t errlen)
{
    s_dec_t d = { msg->up.zone, "message", err, errlen };
    msgpack_object *root = &msg->up.data;
    char q[200];

    if (root->type != MSGPACK_OBJECT_MAP)
        return s_fail(err, errlen, PROTO_E_SCHEMA, "message is %s, not a map", s_what(root->type));
    msgpack_object_map *m = &root->via.map;
    for (uint32_t i = 0; i < m->size; i++) {
        if (m->ptr[i].key.type != MSGPACK_OBJECT_STR)
            return s_fail(err, errlen, PROTO_E_SCHEMA, "key %" PRIu32 " of the message is %s, not a string",
                          i, s_what(m->ptr[i].key.type));
        int rc = s_own(&d, &m->ptr[i].key, NULL);
        if (rc)
            return rc;
    }
    int64_t dup = s_find_dup(m);
    if (dup == -2)
        return s_fail(err, errlen, PROTO_E_LIMIT, "out of memory");
    if (dup >= 0)
        return s_fail(err, errlen, PROTO_E_SCHEMA, "duplicate key '%s' in the message",
                      s_quote(q, sizeof q, m->ptr[dup].key.via.str.ptr, m->ptr[dup].key.via.str.size));

    const msgpack_object *v = s_get(m, "v");
    if (!v)
        return s_fail(err, errlen, PROTO_E_SCHEMA, "missing field 'v' (protocol version)");
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 == 0 || v->via.u64 > INT64_MAX)
        return s_fail(err, errlen, PROTO_E_SCHEMA, "field 'v' must be a positive integer");
    const msgpack_object *t = s_get(m, "type");
    if (!t)
        return s_fail(err, errlen, PROTO_E_SCHEMA, "missing field 'type'");
    if (t->type != MSGPACK_OBJECT_STR)
        return s_fail(err, errlen, PROTO_E_SCHEMA, "field 'type' must be a string");
    proto_type_t type = s_type_lookup(t->via.str.ptr, t->via.str.size);
    if (type == PROTO_INVALID)
        return s_fail(err, errlen, PROTO_E_SCHEMA, "unknown message type '%s'",
                      s_quote(q, sizeof q, t->via.str.ptr, t->via.str.size));
    d.tname = s_types[type].name;

    for (uint32_t i = 0; i < m->size; i++) {
        int rc = s_own(&d, &m->ptr[i].val, m->ptr[i].key.via.str.ptr);
        if (rc)
            return rc;
    }
    msg->root = m;
    msg->type = type;
    msg->version = (int64_t)v->via.u64;

    /* REJECT keeps its shape across versions so an old peer can read why. */
    if (msg->version != PROTO_VERSION && type != PROTO_REJECT)
        return s_fail(err, errlen, PROTO_E_VERSION,
                      "%s: protocol version %" PRId64 ", this side speaks %d", d.tname,
                      msg->version, PROTO_VERSION);

    for (const s_field_t *f = s_types[type].fields; f->key; f++) {
        const msgpack_object *o = s_get(m, f->key);
        if (!o) {
            if (f->required)
                return s_fail(err, errlen, PROTO_E_SCHEMA, "%s: missing field '%s'", d.tname, f->key);
            continue;
        }
        int rc = s_check_field(&d, f, o);
        if (rc)
            return rc;
    }
    return 0;
}

int proto_decode(const void *data, size_t len, proto_msg_t **msg_p, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (!msg_p)
        return s_fail(err, errlen, PROTO_E_MALFORMED, "proto_decode: no place for the message");
    *msg_p = NULL;
    if (!data || len == 0)
        return s_fail(err, errlen, PROTO_E_MALFORMED, "empty frame");
    if (len > PROTO_MAX_FRAME)
        return s_fail(err, errlen, PROTO_E_LIMIT, "frame of %zu bytes, limit %d", len,
                      PROTO_MAX_FRAME);
    int rc = s_scan(data, len, err, errlen);
    if (rc)
        return rc;

    proto_msg_t *msg = calloc(1, sizeof *msg);
    if (!msg)
        return s_fail(err, errlen, PROTO_E_LIMIT, "out of memory");
    msgpack_unpacked_init(&msg->up);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&msg->up, data, len, &off);
    if (ur == MSGPACK_UNPACK_SUCCESS && !msg->up.zone) /* msgpack-c skips it for scalars */
        msg->up.zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len || !msg->up.zone) {
        proto_msg_destroy(&msg);
        return s_fail(err, errlen, ur == MSGPACK_UNPACK_NOMEM_ERROR ? PROTO_E_LIMIT : PROTO_E_MALFORMED,
                      "msgpack-c could not unpack the frame (%d, %zu of %zu bytes)", (int)ur, off, len);
    }
    rc = s_check(msg, err, errlen);
    if (rc == 0 || rc == PROTO_E_VERSION) {
        *msg_p = msg;
        return rc;
    }
    proto_msg_destroy(&msg);
    return rc;
}

void proto_msg_destroy(proto_msg_t **msg_p)
{
    if (!msg_p || !*msg_p)
        return;
    msgpack_unpacked_destroy(&(*msg_p)->up);
    free(*msg_p);
    *msg_p = NULL;
}

/* --------------------------------------------------------------- accessors */

proto_type_t proto_msg_type(const proto_msg_t *msg)
{
    return msg ? msg->type : PROTO_INVALID;
}

int64_t proto_msg_version(const proto_msg_t *msg)
{
    return msg ? msg->version : 0;
}

static const msgpack_object *s_field(const proto_msg_t *msg, const char *key)
{
    return msg && msg->root && key ? s_get(msg->root, key) : NULL;
}

bool proto_has(const proto_msg_t *msg, const char *key)
{
    return s_field(msg, key) != NULL;
}

const char *proto_str(const proto_msg_t *msg, const char *key)
{
    const msgpack_object *o = s_field(msg, key);
    return o && o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : NULL;
}

int64_t proto_int(const proto_msg_t *msg, const char *key, int64_t dflt)
{
    const msgpack_object *o = s_field(msg, key);
    if (!o || !s_is_int(o))
        return dflt;
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)o->via.u64 : o->via.i64;
}

double proto_double(const proto_msg_t *msg, const char *key, double dflt)
{
    const msgpack_object *o = s_field(msg, key);
    return o && s_is_number(o) ? s_number(o) : dflt;
}

bool proto_bool(const proto_msg_t *msg, const char *key, bool dflt)
{
    const msgpack_object *o = s_field(msg, key);
    return o && o->type == MSGPACK_OBJECT_BOOLEAN ? o->via.boolean : dflt;
}

size_t proto_strmap_count(const proto_msg_t *msg, const char *key)
{
    const msgpack_object *o = s_field(msg, key);
    return o && o->type == MSGPACK_OBJECT_MAP ? o->via.map.size : 0;
}

int proto_strmap_get(const proto_msg_t *msg, const char *key, size_t i, const char **k,
                     const char **v)
{
    const msgpack_object *o = s_field(msg, key);
    if (!o || o->type != MSGPACK_OBJECT_MAP || i >= o->via.map.size)
        return -1;
    const msgpack_object_kv *kv = &o->via.map.ptr[i];
    if (kv->key.type != MSGPACK_OBJECT_STR || kv->val.type != MSGPACK_OBJECT_STR)
        return -1;
    if (k)
        *k = kv->key.via.str.ptr;
    if (v)
        *v = kv->val.via.str.ptr;
    return 0;
}

size_t proto_strarray_count(const proto_msg_t *msg, const char *key)
{
    const msgpack_object *o = s_field(msg, key);
    return o && o->type == MSGPACK_OBJECT_ARRAY ? o->via.array.size : 0;
}

const char *proto_strarray_get(const proto_msg_t *msg, const char *key, size_t i)
{
    const msgpack_object *o = s_field(msg, key);
    if (!o || o->type != MSGPACK_OBJECT_ARRAY || i >= o->via.array.size)
        return NULL;
    const msgpack_object *e = &o->via.array.ptr[i];
    return e->type == MSGPACK_OBJECT_STR ? e->via.str.ptr : NULL;
}

size_t proto_metrics_count(const proto_msg_t *msg, const char *key)
{
    return proto_strarray_count(msg, key);
}

int proto_metrics_get(const proto_msg_t *msg, const char *key, size_t i, proto_metric_t *out)
{
    const msgpack_object *o = s_field(msg, key);
    if (!o || o->type != MSGPACK_OBJECT_ARRAY || i >= o->via.array.size)
        return -1;
    const msgpack_object *e = &o->via.array.ptr[i];
    if (e->type != MSGPACK_OBJECT_MAP)
        return -1;
    const msgpack_object *name = s_get(&e->via.map, "name");
    const msgpack_object *unit = s_get(&e->via.map, "unit");
    const msgpack_object *value = s_get(&e->via.map, "value");
    if (!name || name->type != MSGPACK_OBJECT_STR || !unit || unit->type != MSGPACK_OBJECT_STR
        || !value || !s_is_number(value))
        return -1;
    if (out) {
        out->name = name->via.str.ptr;
        out->unit = unit->via.str.ptr;
        out->value = s_number(value);
    }
    return 0;
}

void proto_put_liveness(proto_builder_t *b, int hb_ms, int missed_beats)
{
    proto_put_int(b, "hb_ms", hb_ms);
    proto_put_int(b, "missed_beats", missed_beats);
}

void proto_liveness(const proto_msg_t *m, struct proto_liveness *out)
{
    int64_t hb = m ? proto_int(m, "hb_ms", PROTO_HEARTBEAT_MS) : PROTO_HEARTBEAT_MS;
    int64_t miss = m ? proto_int(m, "missed_beats", PROTO_MISSED_BEATS) : PROTO_MISSED_BEATS;
    out->hb_ms = hb < 50 || hb > 60000 ? PROTO_HEARTBEAT_MS : (int)hb;
    out->missed_beats = miss < 1 || miss > 100 ? PROTO_MISSED_BEATS : (int)miss;
    out->silence_ns =
        (int64_t)(out->missed_beats + PROTO_SILENCE_MARGIN) * out->hb_ms * 1000000LL;
}
