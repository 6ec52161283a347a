/*
 * fault_alloc.h: a test allocator for corio_set_allocator that counts what
 * corio allocates and fails allocations on demand (SQLite's and Lua's
 * habit), so a test can fail allocation N for every N of a program.
 *
 *   fault_alloc_install()      route corio's allocations through it
 *                              (counts reset, nothing armed)
 *   fault_alloc_fail_at(n, m)  make allocation number n (counted from 1
 *                              since install or the last fail_at) fail,
 *                              only that one (FAULT_ONCE) or that one and
 *                              every later one (FAULT_FROM); n 0 disarms
 *   fault_alloc_calls()        allocations asked for since then (malloc
 *                              and realloc both count, failed ones too)
 *   fault_alloc_failed()       how many it made fail
 *   fault_alloc_live()         blocks handed out and not yet freed
 *   fault_alloc_uninstall()    back to libc (checks nothing is live)
 *
 * Counters are atomic: the allocator may be called from any thread.
 */
#ifndef CORIO_TEST_FAULT_ALLOC_H
#define CORIO_TEST_FAULT_ALLOC_H

enum { FAULT_ONCE, FAULT_FROM };

void fault_alloc_install(void);
void fault_alloc_uninstall(void);
void fault_alloc_fail_at(long n, int mode);
long fault_alloc_calls(void);
long fault_alloc_failed(void);
long fault_alloc_live(void);

#endif /* CORIO_TEST_FAULT_ALLOC_H */
