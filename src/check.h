/*
 * check.h: invariant checks for corio's own code (SQLite's habit).
 *
 *   CORIO_ASSERT(x)  x must hold. Checked in debug and sanitizer builds
 *                    (no NDEBUG), compiled out of release builds, where x
 *                    is not evaluated: never give it side effects.
 *   ALWAYS(x)        around a defensive branch whose condition we believe
 *                    is always true: `if (ALWAYS(p != NULL)) ...`. Debug
 *                    builds abort when it is false, so tests find the
 *                    case; release builds keep the branch and its
 *                    recovery. Evaluates x exactly once either way.
 *   NEVER(x)         the same for a condition believed never true:
 *                    `if (NEVER(stray_wakeup)) return -EINVAL;`.
 *
 * A failed check prints the expression, file and line to stderr and
 * aborts; it is for corio's invariants, never for a caller's misuse, which
 * is a returned error (STYLE item 5).
 */
#ifndef CORIO_CHECK_H
#define CORIO_CHECK_H

void corio__check_failed(const char *expr, const char *file, int line)
    __attribute__((noreturn, cold));

#ifdef NDEBUG
#define CORIO_ASSERT(x) ((void)0)
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#else
#define CORIO_ASSERT(x) \
    ((x) ? (void)0 : corio__check_failed(#x, __FILE__, __LINE__))
#define ALWAYS(x) \
    ((x) ? 1 : (corio__check_failed("ALWAYS(" #x ")", __FILE__, __LINE__), 0))
#define NEVER(x) \
    ((x) ? (corio__check_failed("NEVER(" #x ")", __FILE__, __LINE__), 1) : 0)
#endif

#endif /* CORIO_CHECK_H */
