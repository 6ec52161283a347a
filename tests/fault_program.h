/*
 * fault_program.h: the representative program the out-of-memory sweeps
 * (faults/test_fault_oom.c) run with allocation N failing, for every N.
 *
 * It is a list of parts, each a small use of one area (coroutines by
 * hand, tasks, groups, scopes and timeouts, queues, topics, async
 * generators, context variables, locks/events/semaphores, timers, pipe
 * I/O, gather/wait). Each part knows what every call must give when
 * nothing fails and checks it: a call either gives exactly that, or
 * reports a negative errno (prog_err), and an error is only acceptable
 * once an allocation has failed. A part that sees an error cleans up
 * what it made and returns it; the program's outcome is then that error.
 * A wrong value reported as success fails the check at once.
 */
#ifndef CORIO_TEST_FAULT_PROGRAM_H
#define CORIO_TEST_FAULT_PROGRAM_H

/* Which parts to run (bits of PART_*), and how many rounds of each. */
enum {
    PART_CORO = 1 << 0,
    PART_TASKS = 1 << 1,
    PART_GROUP = 1 << 2,
    PART_SCOPE = 1 << 3,
    PART_QUEUE = 1 << 4,
    PART_TOPIC = 1 << 5,
    PART_AGEN = 1 << 6,
    PART_CTXVAR = 1 << 7,
    PART_SYNC = 1 << 8,
    PART_TIMERS = 1 << 9,
    PART_PIPE = 1 << 10,
    PART_GATHER = 1 << 11,
    PART_MANY = 1 << 12,   /* enough of each to grow every table */
    PART_SIGNAL = 1 << 13,
    PART_MISC = 1 << 14,   /* cancel messages, callbacks, shield,
                              as_completed, conditions, joins... */
    PART_EXTRA = 1 << 15,  /* barriers, nested scopes, wait with a timeout,
                              spawn into a context, generators left
                              unfinished, a loop run by hand */
    PART_SOCKET = 1 << 16, /* accept, connect, a byte each way */
    PART_THREAD = 1 << 17, /* to_thread, and a pool thread calling back
                              into the loop (run_coroutine_threadsafe) */
    PART_ALL = (1 << 18) - 1
};

/* Run the parts in `mask`, `rounds` times each (`scale` sizes the MANY
 * part), the coroutine part
 * outside any loop and the rest in one corio_run. Returns 0 or the
 * first error, after checking it against the errors the parts saw
 * (an error seen must surface; none may appear unless an allocation
 * failed). */
int fault_program_run(unsigned mask, int rounds, int scale);

/* What fails in a child: allocation alloc_n (0: none; alloc_mode
 * FAULT_ONCE or FAULT_FROM), and call sys_k of system function sys_fn
 * (sys_k 0: none) with sys_err. */
struct fault_plan {
    long alloc_n;
    int alloc_mode;
    int sys_fn;
    long sys_k;
    int sys_err;
};

/*
 * Fork a child that runs the program (parts `mask`, at the size
 * CORIO_FAULTS asks for) with the plan's faults, checks it (see above;
 * no block still live and no descriptor open at the end, and
 * LeakSanitizer's check where there is one) and exits; fail the running
 * case unless the child exits 0 (not after a crash, a failed check, or a
 * hang caught by an alarm). If counts is not
 * NULL, counts[fn] gets the child's calls of each fault_sys function and
 * counts[FS_NFN] its allocations.
 */
void fault_program_child(unsigned mask, const struct fault_plan *plan,
                         long *counts);

#endif /* CORIO_TEST_FAULT_PROGRAM_H */
