/*
 * cancel_rule.h: what the cancellation-rule tests share (task/test_cancel_rule.c,
 * chan/test_cancel_rule_chan.c): a witness task that proves a call did not
 * suspend, and cancelling the running task by hand.
 *
 * witness() spawns a task that the loop can only run once the caller
 * suspends; NOT_SUSPENDED() checks it has not run. Each test file gets its
 * own copy of the flag (static), which is all a one-case process needs.
 */
#ifndef CORIO_TEST_CANCEL_RULE_H
#define CORIO_TEST_CANCEL_RULE_H

#include "test.h"

#include <corio.h>

static int witness_ran;

static inline int witness_body(void *arg, void **result)
{
    (void)arg;
    (void)result;
    witness_ran = 1;
    return 0;
}

/* Spawn a witness: it runs only if the caller suspends. */
static inline void witness(void)
{
    witness_ran = 0;
    CHECK_EQ(corio_spawn(witness_body, NULL, NULL, NULL), 0);
}

#define NOT_SUSPENDED() CHECK_EQ(witness_ran, 0)

static inline void cancel_self(void)
{
    CHECK_EQ(corio_task_cancel(corio_task_current()), 0);
}

static inline void uncancel_self(void)
{
    CHECK_EQ(corio_task_uncancel(corio_task_current()), 0);
}

#endif /* CORIO_TEST_CANCEL_RULE_H */
