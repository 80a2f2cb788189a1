/* list.h — the built-in benchmarks, in the order `lockstep list` shows them:
 * besides its own file, the only place a benchmark is named, so that adding
 * one is its file and a line here (docs/adding-a-benchmark.md).
 *
 * A line BENCH(name) means: bench/name.c defines
 * `const struct bench_ops bench_name` whose .name is "name".  Users define
 * BENCH(name) and include this file (an X-macro; no include guard on
 * purpose): plugins.h declares the descriptors, registry.c lists them, the
 * tests read the order from here.  CMakeLists.txt reads this file as well, a
 * line at a time: BENCH(name) compiles bench/name.c, and lines between
 * `#ifdef OPTION` and `#endif` (one level, an option of CMakeLists.txt that
 * is also the define the compiler gets) are built only with that option on.
 */
BENCH(null)
BENCH(cpu)
BENCH(fork)
BENCH(mem)
BENCH(disk_seq)
BENCH(disk_rand)
BENCH(exec)
#ifdef LOCKSTEP_WITH_IPERF
BENCH(iperf)
#endif
