/* rt.c — real-time priority for control threads, ordinary for benchmarks.
 * See rt.h for why. */
#include "rt.h"

#include <sched.h>
#include <zmq.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

bool rt_raise_self(void)
{
    struct sched_param p = { .sched_priority = 1 };
    /* a child forked from here (a local worker, a fork benchmark) starts
     * with ordinary scheduling again */
    return pthread_setschedparam(pthread_self(), SCHED_RR | SCHED_RESET_ON_FORK, &p) == 0;
}

void rt_zmq_ctx(void *zctx)
{
    zmq_ctx_set(zctx, ZMQ_THREAD_SCHED_POLICY, SCHED_RR);
    zmq_ctx_set(zctx, ZMQ_THREAD_PRIORITY, 1);
}

void rt_bench_attr(pthread_attr_t *attr)
{
    struct sched_param p = { .sched_priority = 0 };
    pthread_attr_init(attr);
    pthread_attr_setinheritsched(attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(attr, SCHED_OTHER);
    pthread_attr_setschedparam(attr, &p);
}
