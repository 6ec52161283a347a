/*
 * test.h: corio's test registry and checks.
 *
 * TEST(name) { ... } defines a case; the name must be lower-case letters,
 * digits and underscores, unique across tests/, and start the line (CMake
 * finds the cases by that pattern and registers each with CTest). A case
 * passes when it returns; a failed CHECK prints where and why and exits 1.
 *
 * The runner (runner.c) runs every case in a process of its own, and kills
 * it at its timeout (CORIO_TEST_TIMEOUT x CORIO_TEST_TIMEOUT_MULTIPLIER);
 * `corio_tests --here NAME` runs one case in-process, untimed (for gdb).
 *
 * Tests never depend on time: no upper bound on elapsed time, no short
 * sleep that must win a race (docs/design.md, "The test runner and the
 * no-timing rule"). helpers.h has now_s() and settle().
 */
#ifndef CORIO_TEST_H
#define CORIO_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*corio_test_fn)(void);
void corio_test_register(const char *name, corio_test_fn fn);
void corio_test_register_hidden(const char *name, corio_test_fn fn);
void corio_test_register_fifo(const char *name, corio_test_fn fn,
                              const char *why);

#define TEST(name)                                                         \
    static void test_##name(void);                                         \
    __attribute__((constructor)) static void test_reg_##name(void)         \
    {                                                                      \
        corio_test_register(#name, test_##name);                           \
    }                                                                      \
    static void test_##name(void)

/* A case that asserts the FIFO order corio promises (asyncio's: waiters of
 * a lock, semaphore, condition or queue are served in arrival order, ready
 * tasks run in the order they became ready), so a schedule shuffle would
 * fail it by design. It runs like TEST everywhere except in a shuffled run
 * (CORIO_TEST_SHUFFLE, `make test-shuffle`), where it is SKIPPED with
 * `why`, a one-line reason. Mark only cases whose assertions depend on
 * that order; TEST_FIFO(name, "why") starts the line as TEST does. */
#define TEST_FIFO(name, why)                                               \
    static void test_##name(void);                                         \
    __attribute__((constructor)) static void test_reg_##name(void)         \
    {                                                                      \
        corio_test_register_fifo(#name, test_##name, why);                 \
    }                                                                      \
    static void test_##name(void)

/* A case that neither CTest, --list nor a whole run knows: it runs only when
 * named (--one / --here NAME). For tests of the runner itself, which run
 * cases that must fail, hang or skip. */
#define TEST_HIDDEN(name)                                                  \
    static void test_##name(void);                                         \
    __attribute__((constructor)) static void test_reg_##name(void)         \
    {                                                                      \
        corio_test_register_hidden(#name, test_##name);                    \
    }                                                                      \
    static void test_##name(void)

__attribute__((noreturn, format(printf, 3, 4))) void
corio_test_fail(const char *file, int line, const char *fmt, ...);

/* End the running case as SKIPPED, saying why on stderr: what it tests
 * cannot be tested here (exit code CORIO_TEST_SKIP_CODE, which CTest
 * counts as not run, never as passed). */
#define CORIO_TEST_SKIP_CODE 77
__attribute__((noreturn)) void corio_test_skip(const char *why);

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond))                                                       \
            corio_test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond); \
    } while (0)

#define CHECK_INT(a, op, b)                                                \
    do {                                                                   \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);    \
        if (!(check_a_ op check_b_))                                       \
            corio_test_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld",  \
                            #a, #op, #b, check_a_, check_b_);              \
    } while (0)

#define CHECK_EQ(a, b) CHECK_INT(a, ==, b)

#define CHECK_PTR(a, b)                                                    \
    do {                                                                   \
        const void *check_a_ = (const void *)(a);                          \
        const void *check_b_ = (const void *)(b);                          \
        if (check_a_ != check_b_)                                          \
            corio_test_fail(__FILE__, __LINE__, "%s == %s: %p vs %p", #a,  \
                            #b, check_a_, check_b_);                       \
    } while (0)

#define CHECK_STR_HAS(hay, needle)                                         \
    do {                                                                   \
        const char *check_h_ = (hay), *check_n_ = (needle);                \
        if (!check_h_ || !strstr(check_h_, check_n_))                      \
            corio_test_fail(__FILE__, __LINE__, "%s does not contain "     \
                            "\"%s\":\n---\n%s\n---", #hay, check_n_,       \
                            check_h_ ? check_h_ : "(null)");               \
    } while (0)

/* Capture what this process writes to stderr (fd 2) between begin and end.
 * end returns a malloc'd NUL-terminated string the caller frees. A check
 * that fails in between is still reported on the case's real stderr. */
void corio_test_stderr_begin(void);
char *corio_test_stderr_end(void);

/* Run fn(arg) in a forked child and wait for it. Returns the raw wait
 * status; *err_out (if not NULL) gets the child's stderr, malloc'd. The
 * child has no timeout of its own: it is in the case's process group, which
 * the runner kills at the case's timeout. A check that fails in the child
 * is reported on the case's stderr as well as in *err_out. */
int corio_test_fork(void (*fn)(void *), void *arg, char **err_out);

/* 1 when built with AddressSanitizer / ThreadSanitizer, else 0. */
int corio_test_under_asan(void);
int corio_test_under_tsan(void);
/* 1 when running under Valgrind. */
int corio_test_under_valgrind(void);

/* Counts from /proc/self: open descriptors, and mapping lines (VMAs). */
int corio_test_count_fds(void);
int corio_test_count_vmas(void);

/* A seeded xorshift generator for randomized tests (seed from
 * CORIO_TEST_SEED, printed on failure). */
uint64_t corio_test_rand(void);

#endif /* CORIO_TEST_H */
