/* rt.h — keep the control plane responsive while benchmarks load the machine.
 * A fork or cpu benchmark can put hundreds of runnable processes on two
 * cores; a worker's heartbeat thread (and the coordinator) then starve for
 * seconds and healthy workers are declared lost.  Where the system allows it
 * (root or CAP_SYS_NICE), the control threads run SCHED_RR at the lowest
 * real-time priority; they sleep in poll nearly all the time, so the
 * benchmark's share of the CPU is not measurably changed.  Benchmark threads
 * are created explicitly SCHED_OTHER, and forks reset to SCHED_OTHER. */
#ifndef LOCKSTEP_RT_H
#define LOCKSTEP_RT_H

#include <pthread.h>
#include <stdbool.h>

/* Raise the calling thread; true when it got the real-time policy.  Where
 * that is refused but CAP_SYS_NICE is there (a container), it takes nice
 * -15 instead and returns false. */
bool rt_raise_self(void);
/* First thing in a benchmark thread: back to nice 0 when rt_raise_self fell
 * back to nice (a thread inherits its creator's nice; forks inherit the
 * benchmark thread's). */
void rt_bench_enter(void);
/* Ask libzmq to start its I/O threads at the same priority.  Only call after
 * rt_raise_self() returned true (libzmq aborts when it may not), and before
 * the context's first socket. */
void rt_zmq_ctx(void *zctx);
/* Initialise attr for a benchmark thread: ordinary scheduling, explicitly. */
void rt_bench_attr(pthread_attr_t *attr);

#endif
