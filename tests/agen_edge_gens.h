/*
 * agen_edge_gens.h: what the adversarial generator tests
 * (test_agen_edge*.c) share: WAIT_FOR, the record a test generator
 * keeps (struct edge), and two generators: sleepy_gen (sleeps before each
 * item, waits in its cleanup) and plain_gen (never waits).
 */
#ifndef CORIO_TEST_AGEN_EDGE_GENS_H
#define CORIO_TEST_AGEN_EDGE_GENS_H

#include "test.h"

#include <corio.h>
#include <stdint.h>

/* Wait (up to ~5 s) for work a task we cannot join does, such as a
 * finalizer: never a bet on how soon a loaded machine runs it. */
#define WAIT_FOR(cond)                                                     \
    do {                                                                   \
        for (int wait_i_ = 0; wait_i_ < 1000 && !(cond); wait_i_++)        \
            CHECK_EQ(corio_sleep(0.005), 0);                               \
    } while (0)

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

/* What a test generator records. */
struct edge {
    int n;           /* items to yield */
    int yielded;
    int cleanup;     /* times the cleanup ran */
    int cleanup_rc;  /* what the cleanup's wait returned */
    int last_rc;     /* the error that ended the loop */
    int rc1, rc2, rc3;
    int children_done;
    int consumer_rc;
    double wait;     /* seconds per item */
    double cleanup_wait;
    corio_future *fut;
    corio_agen *inner;
    intptr_t add;
};

/* Sleeps s->wait before each of s->n items; on an error records it, waits
 * s->cleanup_wait in its cleanup and returns the error. */
static inline int sleepy_gen(void *arg, void **result)
{
    struct edge *s = arg;
    (void)result;
    for (int i = 0; i < s->n; i++) {
        int rc = corio_sleep(s->wait);
        if (rc == 0)
            rc = corio_yield(IP(i), NULL);
        if (rc) {
            s->last_rc = rc;
            s->cleanup_rc = corio_sleep(s->cleanup_wait);
            s->cleanup++;
            return rc;
        }
        s->yielded++;
    }
    return 0;
}

/* Yields 0..n-1 without ever waiting. */
static inline int plain_gen(void *arg, void **result)
{
    struct edge *s = arg;
    (void)result;
    for (int i = 0; i < s->n; i++) {
        int rc = corio_yield(IP(i), NULL);
        if (rc) {
            s->last_rc = rc;
            s->cleanup++;
            return rc;
        }
    }
    return 0;
}

#endif /* CORIO_TEST_AGEN_EDGE_GENS_H */
