/* monitor.h — reading a ZeroMQ socket monitor (zmq_socket_monitor, the v1
 * event format), shared by the coordinator (who failed a handshake, from
 * which address) and the worker (its connection's descriptor, why it was
 * refused). */
#ifndef LOCKSTEP_MONITOR_H
#define LOCKSTEP_MONITOR_H

#include <stdint.h>

/* The next event waiting on monitor socket mon without blocking: 1 with
 * *event and *value (a descriptor, an errno or a status code), 0 when there
 * is none.  The endpoint frame that follows each event is consumed. */
int monitor_next(void *mon, uint16_t *event, uint32_t *value);

#endif
