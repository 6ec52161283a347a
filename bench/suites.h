/*
 * suites.h: every benchmark suite corio_bench knows; main.c lists them in
 * the order they run. One suite per bench_<name>.c file.
 */
#ifndef CORIO_BENCH_SUITES_H
#define CORIO_BENCH_SUITES_H

#include "bench.h"

extern const bench_suite bench_suite_switch;   /* bench_switch.c */
extern const bench_suite bench_suite_spawn;    /* bench_spawn.c */
extern const bench_suite bench_suite_sleepers; /* bench_sleepers.c */
extern const bench_suite bench_suite_pingpong; /* bench_pingpong.c */
extern const bench_suite bench_suite_timers;   /* bench_timers.c */
extern const bench_suite bench_suite_topic;    /* bench_topic.c */
extern const bench_suite bench_suite_agen;     /* bench_agen.c */
extern const bench_suite bench_suite_flood;    /* bench_flood.c */
extern const bench_suite bench_suite_tothread; /* bench_tothread.c */
extern const bench_suite bench_suite_echo;     /* bench_echo.c */
extern const bench_suite bench_suite_idle;     /* bench_idle.c */
extern const bench_suite bench_suite_procspawn; /* bench_procspawn.c */
extern const bench_suite bench_suite_fileread; /* bench_fileread.c */
extern const bench_suite bench_suite_http;     /* bench_http.c */
extern const bench_suite bench_suite_tls;      /* bench_tls.c */

#endif /* CORIO_BENCH_SUITES_H */
