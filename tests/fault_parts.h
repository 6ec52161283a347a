/*
 * fault_parts.h: what the parts of the sweep program (fault_parts.c,
 * fault_parts_more.c) share with each other and with fault_program.c.
 *
 * A part returns 0, or the first error it saw after cleaning up what it
 * made. A call that fails where success was due goes through prog_err,
 * which accepts only a negative errno, and only once a fault has been
 * injected; a wrong value given as success fails a CHECK at once.
 */
#ifndef CORIO_TEST_FAULT_PARTS_H
#define CORIO_TEST_FAULT_PARTS_H

#include <corio.h>

/* Record that a call failed with rc (see above). Returns rc. */
int fault_err_at(int rc, const char *what, const char *file, int line);
#define prog_err(rc, what) fault_err_at((rc), (what), __FILE__, __LINE__)

/* rc = expr; on an error record it and go to out. */
#define TRY(expr)                                                          \
    do {                                                                   \
        rc = (expr);                                                       \
        if (rc < 0) {                                                      \
            prog_err(rc, #expr);                                           \
            goto out;                                                      \
        }                                                                  \
    } while (0)

/* Drop a handle on a task once it has ended (cancelled if need be). */
void fault_drop(corio_task *t);

extern int fault_scale; /* sizes the MANY part */

/* Bodies and callbacks more than one part uses. */
int fault_gen3(void *arg, void **result);         /* yields 1, 2, 3 */
int fault_child_double(void *arg, void **result); /* sleep(0), 2 * arg */
int fault_gen_sleepy(void *arg, void **result);   /* sleep, yield 0..2 */
int fault_read_var(void *arg, void **result);     /* fault_var's value */
int fault_forever(void *arg, void **result);      /* sleeps an hour */
void fault_cb_never(void *arg);                   /* must never run */
extern corio_ctxvar *fault_var;

/* The parts. */
int fault_part_coro(void); /* outside any loop */
int fault_part_hand_loop(void); /* outside: a loop of its own */
int fault_part_tasks(void);
int fault_part_group(void);
int fault_part_scope(void);
int fault_part_queue(void);
int fault_part_topic(void);
int fault_part_agen(void);
int fault_part_ctxvar(void);
int fault_part_sync(void);
int fault_part_timers(void);
int fault_part_pipe(void);
int fault_part_gather(void);
int fault_part_many(void);
int fault_part_signal(void);
int fault_part_misc(void);
int fault_part_extra(void);
int fault_part_socket(void);
int fault_part_thread(void);

#endif /* CORIO_TEST_FAULT_PARTS_H */
