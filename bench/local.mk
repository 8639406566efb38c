# SPDX-License-Identifier: GPL-2.0-or-later
# bench/: benchmarks that print tables comparing stapcache with the real
# alternative in the same run; run by hand (bench/cache, bench/fanout, bench/stapq,
# bench/shared, bench/signed), never by make check.
noinst_PROGRAMS += bench/timeit
bench_timeit_SOURCES = bench/timeit.c
bench_timeit_LDADD =
EXTRA_DIST += bench/cache bench/fanout bench/shared bench/signed bench/stapq
