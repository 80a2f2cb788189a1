/* proto.h — the lockstep wire protocol: one MessagePack map per ZeroMQ frame.
 *
 * Every message is a map with "v" (PROTO_VERSION, int) and "type" (string,
 * e.g. "HELLO") plus the type's fields listed in proto.c's schema table.
 * Encoding goes through msgpack-c's packer.  Decoding is the attack surface:
 * proto_decode() first walks the raw bytes and checks that the whole frame is
 * one object, that every declared str/bin/array/map length fits in the bytes
 * left, that nesting stays under PROTO_MAX_DEPTH and the element count under
 * PROTO_MAX_ITEMS — before msgpack-c (which allocates declared container sizes
 * up front) ever sees the frame.  Then every field is type-checked against the
 * schema of its message type.
 *
 * Messages and who sends them (C = coordinator ROUTER/PUB, W = worker DEALER/SUB):
 *   HELLO     W->C  name platform hostname kernel cpu_model cores mem_bytes pid
 *                   [advertise] [caps: array of str] [epoch] [coord_host]
 *                   (coord_host: the host of the endpoint it connected to —
 *                   its own route to the coordinator's host: 127.0.0.1, a
 *                   docker bridge gateway, 10.0.2.2 — so that a server on
 *                   the coordinator's host is given to it at that address)
 *                   (epoch: the one the worker last had in this run, 0 at
 *                   first; a lost worker that comes back gets a new one)
 *   WELCOME   C->W  run rank pub hb_ms [epoch] [boot_id] [missed_beats]
 *                   (boot_id: the coordinator's kernel; a worker on the same
 *                   kernel shares its clock and measures no offset;
 *                   hb_ms and missed_beats: the coordinator's liveness
 *                   settings — it declares a worker lost after missed_beats
 *                   silent beats; a coordinator that sends no missed_beats
 *                   keeps PROTO_MISSED_BEATS: proto_liveness)
 *   REJECT    C->W  reason                 (decodable whatever its "v")
 *   SYNC      C=>*  run nonce              (PUB: proves the SUB is live)
 *   SYNC_OK   W->C  nonce
 *   PING      W->C  seq t0                 (worker clock, ns)
 *   PONG      C->W  seq t0 tc              (tc: coordinator clock, ns)
 *   PREPARE   C->W  run phase rep bench params(map str->str) timeout_ms
 *                   [role] [peer]
 *   READY     W->C  run phase rep ok [error] offset_ns offset_err_ns
 *                   [endpoint]             (a server role's "host:port")
 *                   [epoch]
 *   GO        C=>*  run phase rep start_at (coordinator clock, ns; also
 *                   C->W alone to a worker whose SUB is not proved again
 *                   after it came back, or that registered again mid-rep)
 *   RESULT    W->C  run phase rep status("ok"|"failed") started_at finished_at
 *                   metrics(array of {name,unit,value}) details(map str->str)
 *                   [error] [epoch] [stalled_ns]
 *                   (epoch: the one it was prepared in; stalled_ns: how long
 *                   the worker itself stood still while it measured.  A
 *                   result from an older epoch is kept unless the worker
 *                   stood still meanwhile, or it overran a round-robin turn;
 *                   one from an epoch never given is refused: results.c)
 *   ACK       C->W  run phase rep [refused]  (refused: why the result was not
 *                   stored and never will be; the worker drops it either way)
 *   HEARTBEAT both  t [run]             (run: the sender's run key, on PUB)
 *   STOP      C->W  run phase rep          (end that repetition now if it still
 *                   runs — a server whose client has reported — and report it
 *                   as failed "stopped")
 *   QUIT      C->W/C=>*  [reason] [rejoin] (rejoin: not the end; this
 *                   coordinator does not know the worker as it is (declared
 *                   lost, or restarted): register again with HELLO)
 */
#ifndef LOCKSTEP_PROTO_H
#define LOCKSTEP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_MAX_FRAME (1024 * 1024)   /* also the sockets' ZMQ_MAXMSGSIZE */
#define PROTO_MAX_DEPTH 8               /* nesting of arrays/maps */
#define PROTO_MAX_ITEMS 16384           /* all elements in one frame */
#define PROTO_MAX_STR 16384             /* bytes in one string */

typedef enum {
    PROTO_INVALID = 0,
    PROTO_HELLO,
    PROTO_WELCOME,
    PROTO_REJECT,
    PROTO_SYNC,
    PROTO_SYNC_OK,
    PROTO_PING,
    PROTO_PONG,
    PROTO_PREPARE,
    PROTO_READY,
    PROTO_GO,
    PROTO_RESULT,
    PROTO_ACK,
    PROTO_HEARTBEAT,
    PROTO_QUIT,
    PROTO_STOP,
    PROTO_TYPE_COUNT
} proto_type_t;

/* Decode errors (negative). */
#define PROTO_E_MALFORMED   (-1)  /* not valid msgpack / bounds / trailing bytes */
#define PROTO_E_LIMIT       (-2)  /* depth, items, string or frame size limit */
#define PROTO_E_SCHEMA      (-3)  /* not a map, missing/mistyped field, unknown type */
#define PROTO_E_VERSION     (-4)  /* well-formed but "v" != PROTO_VERSION */

typedef struct {
    const char *name;   /* as decoded: NUL-terminated, owned by the message */
    const char *unit;
    double value;
} proto_metric_t;

typedef struct proto_msg proto_msg_t;      /* a decoded message (opaque) */
typedef struct proto_builder proto_builder_t; /* a message being encoded */

const char *proto_type_name(proto_type_t type);     /* "HELLO", or "?" */
proto_type_t proto_type_from_name(const char *name); /* PROTO_INVALID if unknown */

/* ---- liveness ----
 * Heartbeats go both ways every hb_ms; the coordinator declares a worker
 * lost after missed_beats silent beats (an experiment's `heartbeat` and
 * `missed_beats`; these are their defaults, the one place they are set).  A
 * worker registers again after PROTO_SILENCE_MARGIN beats more of its
 * coordinator's silence: it leaves later than the coordinator would give it
 * up, so a coordinator that is slow, not gone, never sees it leave first
 * (3 + 2 = the 5 beats a worker always waited). */
#define PROTO_HEARTBEAT_MS 1000
#define PROTO_MISSED_BEATS 3
#define PROTO_SILENCE_MARGIN 2

struct proto_liveness {
    int hb_ms;           /* beat interval */
    int missed_beats;    /* the coordinator's patience, in beats */
    int64_t silence_ns;  /* the worker's: (missed_beats + margin) beats */
};

/* The liveness settings a WELCOME carries, with the defaults for those it
 * lacks (an older coordinator's) or has out of range (hb_ms 50..60000,
 * missed_beats 1..100, as an experiment allows). */
void proto_liveness(const proto_msg_t *welcome, struct proto_liveness *out);
/* Put hb_ms and missed_beats into a WELCOME being built. */
void proto_put_liveness(proto_builder_t *b, int hb_ms, int missed_beats);

/* ---- encoding ----
 * proto_begin writes "v" and "type"; the map header is patched at finish,
 * so fields can be added in any number.  The builder owns its buffer until
 * proto_finish hands it over (caller frees with free()). */
proto_builder_t *proto_begin(proto_type_t type);
/* Same, with an explicit version (tests, and the worker's --proto-version). */
proto_builder_t *proto_begin_version(proto_type_t type, int64_t version);
void proto_put_str(proto_builder_t *b, const char *key, const char *value);
void proto_put_int(proto_builder_t *b, const char *key, int64_t value);
void proto_put_double(proto_builder_t *b, const char *key, double value);
void proto_put_bool(proto_builder_t *b, const char *key, bool value);
/* map of string -> string */
void proto_put_strmap(proto_builder_t *b, const char *key, const char *const *keys,
                      const char *const *vals, size_t n);
/* array of strings */
void proto_put_strarray(proto_builder_t *b, const char *key, const char *const *vals, size_t n);
/* array of {name, unit, value} maps */
void proto_put_metrics(proto_builder_t *b, const char *key, const proto_metric_t *m, size_t n);
/* Returns 0 and hands over a malloc'd buffer; destroys the builder. */
int proto_finish(proto_builder_t **b_p, void **data_p, size_t *len_p);
void proto_builder_destroy(proto_builder_t **b_p);

/* ---- decoding ----
 * Returns 0 and a message, or a negative PROTO_E_* with a human reason in
 * err ("array of 268435456 elements declared, 0 bytes left").  For
 * PROTO_E_VERSION the message is still returned (type and "v" readable) so
 * the receiver can answer REJECT; it must destroy it.  Strings containing a
 * NUL byte are rejected.  Unknown extra fields are allowed (forward
 * compatibility) but still bounded and must be of a msgpack type. */
int proto_decode(const void *data, size_t len, proto_msg_t **msg_p, char *err, size_t errlen);
void proto_msg_destroy(proto_msg_t **msg_p);

proto_type_t proto_msg_type(const proto_msg_t *msg);
int64_t proto_msg_version(const proto_msg_t *msg);
bool proto_has(const proto_msg_t *msg, const char *key);
/* Accessors: the schema guarantees the type of fields it knows; on an absent
 * field (or one of another type) they return the default / NULL / 0. */
const char *proto_str(const proto_msg_t *msg, const char *key);
int64_t proto_int(const proto_msg_t *msg, const char *key, int64_t dflt);
double proto_double(const proto_msg_t *msg, const char *key, double dflt); /* ints accepted */
bool proto_bool(const proto_msg_t *msg, const char *key, bool dflt);
/* map str->str: count, and the i-th pair (0 on success) */
size_t proto_strmap_count(const proto_msg_t *msg, const char *key);
int proto_strmap_get(const proto_msg_t *msg, const char *key, size_t i, const char **k,
                     const char **v);
size_t proto_strarray_count(const proto_msg_t *msg, const char *key);
const char *proto_strarray_get(const proto_msg_t *msg, const char *key, size_t i);
size_t proto_metrics_count(const proto_msg_t *msg, const char *key);
int proto_metrics_get(const proto_msg_t *msg, const char *key, size_t i, proto_metric_t *out);

#endif
