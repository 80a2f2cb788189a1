/* monitor.h — reading a ZeroMQ socket monitor (zmq_socket_monitor, the v1
 * event format), shared by the coordinator (who failed a handshake, from
 * which address) and the worker (its connection's descriptor, why it was
 * refused). */
#ifndef LOCKSTEP_MONITOR_H
#define LOCKSTEP_MONITOR_H

#include <stddef.h>
#include <stdint.h>

/* The next event waiting on monitor socket mon without blocking: 1 with
 * *event and *value (a descriptor, an errno or a status code), 0 when there
 * is none.  The endpoint frame that follows each event is consumed. */
int monitor_next(void *mon, uint16_t *event, uint32_t *value);

/* The peer of the connection to local TCP port `port` that this host closed
 * last, from the kernel's socket tables (Linux /proc/net/tcp and tcp6): a
 * socket closed first by our side lingers in FIN_WAIT or TIME_WAIT with its
 * peer's address.  For a peer refused in the handshake so fast that it was
 * gone before the monitor could ask getpeername.  1 with the numeric
 * address in out, 0 when there is none. */
int monitor_closed_peer(unsigned port, char *out, size_t len);
/* The same over one table's text (v6: a tcp6 table); *best carries the
 * best match's rank across tables (start it at -1).  For tests. */
int monitor_closed_peer_in(const char *table, int v6, unsigned port, char *out, size_t len,
                           long long *best);

#endif
