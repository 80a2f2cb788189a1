/* rt.c — real-time priority for control threads, ordinary for benchmarks.
 * See rt.h for why. */
#include "rt.h"

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zmq.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

/* The fallback's nice value: weight 29154 against 1024 for nice 0, so the
 * control thread still gets the CPU within a scheduling period when a fork
 * benchmark has a couple of hundred processes runnable. */
#define RT_FALLBACK_NICE (-15)

static _Atomic bool s_niced; /* the fallback is in force: bench threads undo it */

static int s_set_nice(int nice) { return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice); }

bool rt_raise_self(void)
{
    struct sched_param p = { .sched_priority = 1 };
    /* a child forked from here (a local worker, a fork benchmark) starts
     * with ordinary scheduling again */
    if (pthread_setschedparam(pthread_self(), SCHED_RR | SCHED_RESET_ON_FORK, &p) == 0)
        return true;
    /* No real-time policy here — e.g. a container, whose cgroup has no
     * real-time runtime even with CAP_SYS_NICE.  A much larger CFS share
     * instead; threads created from here inherit it (libzmq's I/O threads
     * too), benchmark threads drop it (rt_bench_enter). */
    if (s_set_nice(RT_FALLBACK_NICE) == 0)
        s_niced = true;
    return false;
}

void rt_bench_enter(void)
{
    if (s_niced)
        s_set_nice(0);
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
