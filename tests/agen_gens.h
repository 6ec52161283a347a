/*
 * agen_gens.h: what the async generator tests (test_agen*.c) share: the
 * record a test generator keeps (struct gstate) and two generators:
 * counting_gen (yields 0..n-1, never waits) and slow_cleanup_gen (yields
 * forever, its cleanup waits).
 */
#ifndef CORIO_TEST_AGEN_GENS_H
#define CORIO_TEST_AGEN_GENS_H

#include "test.h"

#include <corio.h>
#include <stdint.h>

#define IP(x) ((void *)(intptr_t)(x))
#define PI(p) ((intptr_t)(p))

/* What a test generator records. */
struct gstate {
    int n;            /* items to yield */
    int yielded;      /* items handed out */
    int cleanup;      /* times the cleanup ran */
    int cleanup_rc;   /* what the cleanup's wait returned */
    int last_rc;      /* the error that ended the loop */
    int wait_kind;    /* see waiting_gen */
    double wait;      /* seconds to sleep per item / in cleanup */
    intptr_t sent_sum;
    corio_future *fut;
    corio_queue *q;
    corio_lock *lock;
};

/* Yield 0..n-1; no waits. On an error: record it, run cleanup, return it. */
static inline int counting_gen(void *arg, void **result)
{
    struct gstate *s = arg;
    (void)result;
    for (int i = 0; i < s->n; i++) {
        void *sent = NULL;
        int rc = corio_yield(IP(i), &sent);
        if (rc) {
            s->last_rc = rc;
            s->cleanup++;
            return rc;
        }
        s->yielded++;
        s->sent_sum += PI(sent);
    }
    return 0;
}

/* Yields forever; its cleanup waits (sleep) and then records. */
static inline int slow_cleanup_gen(void *arg, void **result)
{
    struct gstate *s = arg;
    (void)result;
    for (int i = 0;; i++) {
        int rc = corio_yield(IP(i), NULL);
        if (rc) {
            s->last_rc = rc;
            s->cleanup_rc = corio_sleep(s->wait);
            s->cleanup++;
            return rc;
        }
        s->yielded++;
    }
}

#endif /* CORIO_TEST_AGEN_GENS_H */
