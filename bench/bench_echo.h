/*
 * bench_echo.h: what the echo suite's servers share (bench_echo.c, and
 * the libuv server in bench_echo_uv.c or its n/a stand-in).
 */
#ifndef CORIO_BENCH_ECHO_H
#define CORIO_BENCH_ECHO_H

#include <pthread.h>
#include <time.h>

struct echo_run {
    int port;
    int stopfd; /* eventfd: the client is done */
    int ready;
    int kind;   /* 0 epoll, 1 corio raw, 2 corio streams, 3 libuv */
    int failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    clockid_t cpu;
};

/* Tell the client the server listens on port (and whose CPU clock to
 * read): from the server's thread. */
void echo_announce(struct echo_run *r, int port);
/* Report a server that could not start. */
void echo_fail(struct echo_run *r);
/* Pin the calling thread to cpu, where the machine allows it. */
void echo_pin(int cpu);

extern const int bench_echo_have_uv;
/* The libuv echo server's thread (bench_echo_uv.c). */
void *bench_echo_uv_server(void *arg);

#endif /* CORIO_BENCH_ECHO_H */
