/* pairing.h — who measures against whom in a network phase.
 *
 * Public targets ("host:port" or "host:first-last") expand, host by host, to
 * an ordered list of endpoints.  Clients run in waves of at most as many
 * clients as there are endpoints; inside a wave each client gets its own
 * disjoint list of candidates (its first choice, then fallbacks), so no two
 * clients ever use one server port at the same time, and a busy or dead
 * endpoint is left for the next candidate: the next port, then the next host.
 *
 * Local servers (workers) serve one client at a time: waves of at most as
 * many clients as servers, each on a server of its own, rotating per
 * repetition.
 */
#ifndef LOCKSTEP_PAIRING_H
#define LOCKSTEP_PAIRING_H

#include <stdbool.h>
#include <stddef.h>

struct pair_target {
    char host[256];
    int first, last; /* port range, inclusive */
};

/* Parse "host:port", "host:first-last", "[v6addr]:port...".  0, or -1 with a
 * message ("'host:99999': port 99999 is out of range 1..65535"). */
int pair_parse_target(const char *text, struct pair_target *t, char *err, size_t errlen);

struct pair_slot {
    int wave;          /* 0-based */
    int server;        /* local: index of the server worker; public: -1 */
    char *peers;       /* public: "h:p,h:p,..." candidates in order (malloc'd); local: NULL */
};

/* Plan nclients against public targets: fills slots[0..nclients-1] and
 * returns the number of waves (>= 1), or -1 if there is no endpoint.
 * wave_max limits clients per wave (1 for round-robin; 0 = no limit);
 * attempt_limit caps each client's candidate list (>= 1). */
int pair_plan_public(const struct pair_target *targets, size_t ntargets, size_t nclients,
                     size_t wave_max, size_t attempt_limit, struct pair_slot *slots);
/* Plan nclients against nservers local servers; returns the number of waves.
 * Client c gets server (c + rotation) % nservers: the clients of one wave
 * (at most nservers) get distinct servers, every server serves when there
 * are as many clients (round-robin included), and a rotation that grows by
 * one per repetition moves each client to the next server. */
int pair_plan_local(size_t nservers, size_t nclients, size_t wave_max, size_t rotation,
                    struct pair_slot *slots);
void pair_slots_free(struct pair_slot *slots, size_t n);

/* Is a worker on the coordinator's host?  route: the host it connected to
 * the coordinator at (its HELLO's coord_host); advertise: its own address;
 * endpoint: where it serves ("@:port" = through a port forward of the
 * coordinator's host, a VM).  Loopback routes, a route equal to its own
 * address and a forward all say yes. */
bool pair_on_coord_host(const char *route, const char *advertise, const char *endpoint);
/* Where a client whose route to the coordinator's host is client_route
 * reaches a server listening at endpoint ("host:port", "[v6]:port",
 * "@:port"): a server on the coordinator's host at the client's route and
 * the server's port, any other where it says.  malloc'd (NULL: no memory). */
char *pair_endpoint(const char *endpoint, bool server_on_coord_host, const char *client_route);

#endif
