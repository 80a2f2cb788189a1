/* fuzz_proto.c — libFuzzer target: the message decoder on arbitrary bytes.
 * Every input must be decoded or refused with a reason, never crash, never
 * read out of bounds, never allocate without bound; a message that decodes
 * must answer every accessor. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    proto_msg_t *m = NULL;
    char err[256];
    int rc = proto_decode(data, size, &m, err, sizeof err);
    if (rc < 0 && rc != PROTO_E_VERSION && m)
        __builtin_trap(); /* a refused message must not be handed out */
    if (rc < 0 && !memchr(err, '\0', sizeof err))
        __builtin_trap(); /* the reason is a string */
    if (m) {
        /* touch what receivers read, whatever the type */
        static const char *const keys[] = { "name", "run", "phase", "rep", "start_at",
                                            "metrics", "params", "peers", "error", "t" };
        (void)proto_msg_type(m);
        (void)proto_msg_version(m);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            (void)proto_has(m, keys[i]);
            (void)proto_str(m, keys[i]);
            (void)proto_int(m, keys[i], 0);
            (void)proto_double(m, keys[i], 0);
            (void)proto_bool(m, keys[i], false);
            size_t n = proto_strmap_count(m, keys[i]);
            for (size_t j = 0; j < n; j++) {
                const char *k, *v;
                proto_strmap_get(m, keys[i], j, &k, &v);
            }
            n = proto_strarray_count(m, keys[i]);
            for (size_t j = 0; j < n; j++)
                (void)proto_strarray_get(m, keys[i], j);
            n = proto_metrics_count(m, keys[i]);
            for (size_t j = 0; j < n; j++) {
                proto_metric_t mt;
                proto_metrics_get(m, keys[i], j, &mt);
            }
        }
        proto_msg_destroy(&m);
    }
    return 0;
}
